package harness.googlekafka;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import harness.tokenvalidation.TokenValidator;
import java.io.IOException;
import java.io.InputStream;
import java.net.HttpURLConnection;
import java.net.URI;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Set;
import javax.security.auth.login.AppConfigurationEntry;
import org.apache.kafka.common.security.oauthbearer.OAuthBearerToken;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The broker side of Google Cloud Managed Service for Apache Kafka's OAUTHBEARER authentication, for tests. The token
 * is what Google's Python quickstart and its Java GcpLoginCallbackHandler make: three unpadded base64url parts joined
 * by '.', a header {"typ": "JWT", "alg": "GOOG_OAUTH2_TOKEN"}, claims {"exp", "iss": "Google", "iat", "scope":
 * "kafka", "sub": the account's e-mail}, and the raw OAuth 2.0 access token that google-auth got for the account. The
 * third part is no signature: the token is as good as its access token, which the handler asks Google about (the test
 * harness's stand-in, harness.google_auth, at tokenInfoUrl): it must be one Google issued and has not expired, and
 * belong to sub. The authenticated principal is that e-mail, and the session lasts until the access token expires.
 *
 * <p>JAAS option: tokenInfoUrl (GET ?access_token=TOKEN answers 200 with Google's tokeninfo JSON, whose email and exp,
 * seconds since the epoch as a string, the handler reads; or 400 with {"error", "error_description": why the token is
 * not valid: unknown, expired}).
 *
 * <p>Like every TokenValidator, it is also the listener's login callback handler. The access token is never logged: a
 * failure's log line names the claim or the lookup that failed.
 */
public final class GoogleKafkaValidator extends TokenValidator {
    private static final Logger LOG = LoggerFactory.getLogger(GoogleKafkaValidator.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String TYPE = "JWT";
    private static final String ALGORITHM = "GOOG_OAUTH2_TOKEN";
    private static final String ISSUER = "Google";
    private static final String SCOPE = "kafka";
    private static final int LOOKUP_TIMEOUT_MS = 5000;

    private String tokenInfoUrl;

    public GoogleKafkaValidator() {
        super("Google Managed Kafka");
    }

    @Override
    public void configure(Map<String, ?> configs, String saslMechanism, List<AppConfigurationEntry> jaasConfigEntries) {
        tokenInfoUrl = requiredOption(options(jaasConfigEntries), "tokenInfoUrl");
    }

    @Override
    protected OAuthBearerToken check(String tokenValue) throws Rejected {
        String[] parts = tokenValue.split("\\.", -1);
        if (parts.length != 3) {
            throw new Rejected("the token has " + parts.length + " dot-separated parts, not 3 (header.claims.token)");
        }
        JsonNode header = jsonObject(decode(parts[0], "header"), "the token's header");
        expect(header, "header", "typ", TYPE);
        expect(header, "header", "alg", ALGORITHM);
        JsonNode claims = jsonObject(decode(parts[1], "claims"), "the token's claims");
        expect(claims, "claims", "iss", ISSUER);
        expect(claims, "claims", "scope", SCOPE);
        JsonNode sub = claims.get("sub");
        if (sub == null || !sub.isTextual() || sub.asText().isEmpty()) {
            throw new Rejected("the claim sub (the account's e-mail) is missing");
        }
        JsonNode exp = claims.get("exp");
        if (exp == null || !exp.isNumber()) {
            throw new Rejected("the claim exp is missing or not a number");
        }
        Instant now = Instant.now();
        Instant claimedExpiry = Instant.ofEpochMilli((long) (exp.asDouble() * 1000));
        if (!claimedExpiry.isAfter(now)) {
            throw new Rejected("the token expired at " + claimedExpiry + " (its claim exp; now " + now + ")");
        }
        JsonNode iat = claims.get("iat");
        Long issuedAtMs = iat != null && iat.isNumber() ? (long) (iat.asDouble() * 1000) : null;

        String accessToken = decode(parts[2], "access token");
        if (accessToken.isEmpty()) {
            throw new Rejected("the third part (the access token) is empty");
        }
        JsonNode info = lookUp(accessToken);
        JsonNode email = info.get("email");
        JsonNode expiry = info.get("exp");
        if (email == null || !email.isTextual() || expiry == null) {
            throw new Rejected("the token info at " + tokenInfoUrl + " gave no email or exp");
        }
        if (!email.asText().equals(sub.asText())) {
            throw new Rejected("the claim sub " + sub.asText() + " is not the access token's account " + email.asText());
        }
        long expiresAtMs;
        try {
            expiresAtMs = Math.multiplyExact(Long.parseLong(expiry.asText()), 1000L);
        } catch (NumberFormatException | ArithmeticException e) {
            throw new Rejected("the token info's exp is not seconds since the epoch");
        }
        if (expiresAtMs <= now.toEpochMilli()) {
            throw new Rejected("the access token of " + email.asText() + " expired at "
                    + Instant.ofEpochMilli(expiresAtMs));
        }
        LOG.info("Google Managed Kafka authentication of {} (access token valid until {})",
                email.asText(), Instant.ofEpochMilli(expiresAtMs));
        return new Token(tokenValue, email.asText(), issuedAtMs, expiresAtMs, Set.of(SCOPE));
    }

    private static String decode(String part, String what) throws Rejected {
        try {
            if (part.contains("=")) {
                throw new IllegalArgumentException("padded");
            }
            return new String(Base64.getUrlDecoder().decode(part), StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            throw new Rejected("the token's " + what + " is not unpadded base64url");
        }
    }

    private static JsonNode jsonObject(String text, String what) throws Rejected {
        try {
            JsonNode node = JSON.readTree(text);
            if (node == null || !node.isObject()) {
                throw new Rejected(what + " is not a JSON object");
            }
            return node;
        } catch (JsonProcessingException e) {
            throw new Rejected(what + " is not JSON");
        }
    }

    private static void expect(JsonNode object, String what, String name, String expected) throws Rejected {
        JsonNode value = object.get(name);
        if (value == null || !value.isTextual() || !value.asText().equals(expected)) {
            String found = value == null ? "missing" : value.toString();
            throw new Rejected("the " + what + "'s " + name + " is " + found + ", not \"" + expected + "\"");
        }
    }

    private JsonNode lookUp(String accessToken) throws Rejected {
        String url = tokenInfoUrl + "?access_token=" + URLEncoder.encode(accessToken, StandardCharsets.UTF_8);
        HttpURLConnection connection;
        try {
            connection = (HttpURLConnection) URI.create(url).toURL().openConnection();
        } catch (IOException | IllegalArgumentException e) {
            throw new Rejected("the token info lookup at " + tokenInfoUrl + " failed: " + e.getClass().getName());
        }
        connection.setConnectTimeout(LOOKUP_TIMEOUT_MS);
        connection.setReadTimeout(LOOKUP_TIMEOUT_MS);
        try {
            int status = connection.getResponseCode();
            if (status == HttpURLConnection.HTTP_OK) {
                try (InputStream body = connection.getInputStream()) {
                    return jsonObject(new String(body.readAllBytes(), StandardCharsets.UTF_8), "the token info");
                }
            }
            String reason = "";
            try (InputStream body = connection.getErrorStream()) {
                if (body != null) {
                    JsonNode error = JSON.readTree(body.readAllBytes());
                    if (error != null && error.hasNonNull("error_description")) {
                        reason = error.get("error_description").asText();
                    }
                }
            } catch (JsonProcessingException e) {
                reason = "";
            }
            throw new Rejected(reason.isEmpty()
                    ? "the token info lookup at " + tokenInfoUrl + " answered HTTP " + status
                    : reason);
        } catch (IOException e) {
            throw new Rejected("the token info lookup at " + tokenInfoUrl + " failed: " + e.getClass().getName());
        } finally {
            connection.disconnect();
        }
    }
}
