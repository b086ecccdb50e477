package harness.mskiam;

import harness.tokenvalidation.TokenValidator;
import java.io.IOException;
import java.io.InputStream;
import java.net.HttpURLConnection;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.URLDecoder;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collections;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import javax.security.auth.login.AppConfigurationEntry;
import org.apache.kafka.common.security.oauthbearer.OAuthBearerToken;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The broker side of Amazon MSK's IAM authentication over OAUTHBEARER, for tests: the token is the base64url encoding
 * (no padding) of a SigV4 presigned URL, https://kafka.REGION.amazonaws.com/?Action=kafka-cluster%3AConnect&X-Amz-...,
 * as aws-msk-iam-sasl-signer-python and aws-msk-iam-auth make it. The handler checks what MSK checks: the URL's host,
 * action, algorithm, credential scope, signed headers, expiry and signing time, the session token of temporary
 * credentials, and the signature, which it computes again from the secret of the access key id. The secrets come from
 * the test harness's stand-in for IAM and STS (harness.aws_iam) at credentialsUrl; the authenticated principal is the
 * caller's ARN (an IAM user's or an assumed role's), and the session lasts until the presigned URL expires.
 *
 * <p>JAAS options: region (the cluster's region); credentialsUrl (GET ?access_key_id=ID answers 200 with lines
 * name=value: secret_access_key, session_token (temporary credentials only) and arn; or 404 with why the key id
 * authenticates no one: unknown, inactive, expired); clockSkewSeconds (how long before its X-Amz-Date a URL is
 * accepted: 300, as AWS allows).
 *
 * <p>Like every TokenValidator, it is also the listener's login callback handler.
 */
public final class MskIamValidator extends TokenValidator {
    private static final Logger LOG = LoggerFactory.getLogger(MskIamValidator.class);
    private static final String ALGORITHM = "AWS4-HMAC-SHA256";
    private static final String SERVICE = "kafka-cluster";
    private static final String ACTION = "kafka-cluster:Connect";
    private static final int MAX_EXPIRES_SECONDS = 900;
    // botocore's SigV4QueryAuth signs a GET without a body over https: the payload hash is SHA-256 of "", not
    // UNSIGNED-PAYLOAD (that is S3's presigning).
    private static final String EMPTY_PAYLOAD_SHA256 =
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
    // The signers add User-Agent after signing, so it is not part of the canonical query string.
    private static final Set<String> UNSIGNED_PARAMETERS = Set.of("X-Amz-Signature", "User-Agent");
    private static final DateTimeFormatter AMZ_DATE = DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'");
    private static final int LOOKUP_TIMEOUT_MS = 5000;

    private String region;
    private String credentialsUrl;
    private long clockSkewSeconds = 300;

    public MskIamValidator() {
        super("MSK IAM");
    }

    @Override
    public void configure(Map<String, ?> configs, String saslMechanism, List<AppConfigurationEntry> jaasConfigEntries) {
        Map<String, ?> options = options(jaasConfigEntries);
        region = requiredOption(options, "region");
        credentialsUrl = requiredOption(options, "credentialsUrl");
        Object skew = options.get("clockSkewSeconds");
        if (skew != null) {
            clockSkewSeconds = Long.parseLong(skew.toString());
        }
    }

    @Override
    protected OAuthBearerToken check(String tokenValue) throws Rejected {
        URI url = presignedUrl(tokenValue);
        String expectedHost = "kafka." + region + ".amazonaws.com";
        if (!"https".equals(url.getScheme())) {
            throw new Rejected("the token's URL is not https but " + url.getScheme());
        }
        if (!expectedHost.equals(url.getHost()) || url.getPort() != -1) {
            String host = url.getRawAuthority();
            throw new Rejected("wrong region or host: the token is for " + host + ", not " + expectedHost);
        }
        if (!url.getRawPath().isEmpty() && !"/".equals(url.getRawPath())) {
            throw new Rejected("the token's URL has the path " + url.getRawPath() + ", not /");
        }
        Map<String, String> query = query(url.getRawQuery());
        expect(query, "Action", ACTION);
        expect(query, "X-Amz-Algorithm", ALGORITHM);
        expect(query, "X-Amz-SignedHeaders", "host");

        String amzDate = required(query, "X-Amz-Date");
        Instant signedAt;
        try {
            signedAt = LocalDateTime.parse(amzDate, AMZ_DATE).toInstant(ZoneOffset.UTC);
        } catch (DateTimeParseException e) {
            throw new Rejected("X-Amz-Date is not yyyyMMddTHHmmssZ: " + amzDate);
        }
        String[] scope = required(query, "X-Amz-Credential").split("/", -1);
        if (scope.length != 5 || scope[0].isEmpty()) {
            throw new Rejected("X-Amz-Credential is not ACCESS_KEY_ID/DATE/REGION/SERVICE/aws4_request");
        }
        String accessKeyId = scope[0];
        if (!scope[1].equals(amzDate.substring(0, 8))) {
            throw new Rejected("the credential scope's date " + scope[1] + " is not X-Amz-Date's " + amzDate);
        }
        if (!scope[2].equals(region)) {
            throw new Rejected("wrong region: the credential scope's region is " + scope[2] + ", not " + region);
        }
        if (!scope[3].equals(SERVICE) || !scope[4].equals("aws4_request")) {
            throw new Rejected("the credential scope is not for " + SERVICE + "/aws4_request");
        }

        long expires;
        try {
            expires = Long.parseLong(required(query, "X-Amz-Expires"));
        } catch (NumberFormatException e) {
            throw new Rejected("X-Amz-Expires is not a number");
        }
        if (expires < 1 || expires > MAX_EXPIRES_SECONDS) {
            throw new Rejected("X-Amz-Expires is " + expires + ", not 1 to " + MAX_EXPIRES_SECONDS);
        }
        Instant now = Instant.now();
        Instant expiresAt = signedAt.plusSeconds(expires);
        if (now.isBefore(signedAt.minusSeconds(clockSkewSeconds))) {
            throw new Rejected("the token is signed in the future (" + amzDate + ", now " + now + ")");
        }
        if (now.isAfter(expiresAt)) {
            throw new Rejected("the token expired at " + expiresAt + " (signed " + amzDate + ", now " + now + ")");
        }

        Map<String, String> credentials = lookUp(accessKeyId);
        String secret = credentials.get("secret_access_key");
        String arn = credentials.get("arn");
        if (secret == null || arn == null) {
            throw new Rejected("the credential lookup for " + accessKeyId + " gave no secret or ARN");
        }
        String sessionToken = credentials.get("session_token");
        String presentedToken = query.get("X-Amz-Security-Token");
        if (sessionToken == null && presentedToken != null) {
            throw new Rejected("a security token came with the long-term access key id " + accessKeyId);
        }
        if (sessionToken != null && (presentedToken == null || !constantTimeEquals(sessionToken, presentedToken))) {
            throw new Rejected("X-Amz-Security-Token is missing or not the session token of " + accessKeyId);
        }

        String canonicalRequest = String.join(
                "\n",
                "GET",
                "/",
                canonicalQuery(query),
                "host:" + expectedHost,
                "",
                "host",
                EMPTY_PAYLOAD_SHA256);
        String credentialScope = String.join("/", scope[1], scope[2], scope[3], scope[4]);
        String stringToSign = String.join("\n", ALGORITHM, amzDate, credentialScope, sha256Hex(canonicalRequest));
        byte[] key = hmac(("AWS4" + secret).getBytes(StandardCharsets.UTF_8), scope[1]);
        key = hmac(key, scope[2]);
        key = hmac(key, scope[3]);
        key = hmac(key, scope[4]);
        String expected = HexFormat.of().formatHex(hmac(key, stringToSign));
        if (!constantTimeEquals(expected, required(query, "X-Amz-Signature"))) {
            throw new Rejected("signature mismatch for access key id " + accessKeyId + " (" + arn + ")");
        }
        LOG.info("MSK IAM authentication of {} with access key id {}", arn, accessKeyId);
        return new Token(tokenValue, arn, signedAt.toEpochMilli(), expiresAt.toEpochMilli(), Set.of());
    }

    private static URI presignedUrl(String tokenValue) throws Rejected {
        String decoded;
        try {
            if (tokenValue.contains("=")) {
                throw new IllegalArgumentException("padded");
            }
            decoded = new String(Base64.getUrlDecoder().decode(tokenValue), StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            throw new Rejected("the token is not unpadded base64url");
        }
        try {
            URI url = new URI(decoded);
            if (url.getRawQuery() == null || url.getHost() == null) {
                throw new Rejected("the token is not a presigned URL");
            }
            return url;
        } catch (URISyntaxException e) {
            throw new Rejected("the token is not a URL");
        }
    }

    private static Map<String, String> query(String rawQuery) throws Rejected {
        Map<String, String> parameters = new HashMap<>();
        for (String pair : rawQuery.split("&", -1)) {
            int equals = pair.indexOf('=');
            String name = decode(equals < 0 ? pair : pair.substring(0, equals));
            String value = equals < 0 ? "" : decode(pair.substring(equals + 1));
            if (parameters.put(name, value) != null) {
                throw new Rejected("the query parameter " + name + " appears twice");
            }
        }
        return parameters;
    }

    private static String decode(String encoded) throws Rejected {
        try {
            // Percent-decoding only: a '+' in a SigV4 query is a plus sign, never a space.
            return URLDecoder.decode(encoded.replace("+", "%2B"), StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            throw new Rejected("malformed percent-encoding in the query");
        }
    }

    private static String required(Map<String, String> query, String name) throws Rejected {
        String value = query.get(name);
        if (value == null || value.isEmpty()) {
            throw new Rejected("the query parameter " + name + " is missing");
        }
        return value;
    }

    private static void expect(Map<String, String> query, String name, String expected) throws Rejected {
        String value = required(query, name);
        if (!value.equals(expected)) {
            throw new Rejected(name + " is " + value + ", not " + expected);
        }
    }

    /** SigV4's canonical query string: each name and value URI-encoded (all but A-Z a-z 0-9 - _ . ~), sorted. */
    private static String canonicalQuery(Map<String, String> query) {
        List<String> pairs = new ArrayList<>();
        query.forEach((name, value) -> {
            if (!UNSIGNED_PARAMETERS.contains(name)) {
                pairs.add(uriEncode(name) + "=" + uriEncode(value));
            }
        });
        Collections.sort(pairs);
        return String.join("&", pairs);
    }

    private static String uriEncode(String text) {
        return URLEncoder.encode(text, StandardCharsets.UTF_8)
                .replace("+", "%20")
                .replace("*", "%2A")
                .replace("%7E", "~");
    }

    private Map<String, String> lookUp(String accessKeyId) throws Rejected {
        String url = credentialsUrl + "?access_key_id=" + URLEncoder.encode(accessKeyId, StandardCharsets.UTF_8);
        HttpURLConnection connection;
        try {
            connection = (HttpURLConnection) URI.create(url).toURL().openConnection();
        } catch (IOException e) {
            throw new Rejected("the credential lookup at " + credentialsUrl + " failed: " + e);
        }
        connection.setConnectTimeout(LOOKUP_TIMEOUT_MS);
        connection.setReadTimeout(LOOKUP_TIMEOUT_MS);
        try {
            int status = connection.getResponseCode();
            if (status == HttpURLConnection.HTTP_NOT_FOUND) {
                String reason = "";
                try (InputStream body = connection.getErrorStream()) {
                    if (body != null) {
                        reason = new String(body.readAllBytes(), StandardCharsets.UTF_8).strip();
                    }
                }
                throw new Rejected(reason.isEmpty() ? "unknown access key id " + accessKeyId : reason);
            }
            if (status != HttpURLConnection.HTTP_OK) {
                throw new Rejected("the credential lookup at " + credentialsUrl + " answered HTTP " + status);
            }
            Map<String, String> values = new HashMap<>();
            try (InputStream body = connection.getInputStream()) {
                for (String line : new String(body.readAllBytes(), StandardCharsets.UTF_8).split("\n")) {
                    int equals = line.indexOf('=');
                    if (equals > 0) {
                        values.put(line.substring(0, equals), line.substring(equals + 1));
                    }
                }
            }
            return values;
        } catch (IOException e) {
            throw new Rejected("the credential lookup at " + credentialsUrl + " failed: " + e);
        } finally {
            connection.disconnect();
        }
    }

    private static boolean constantTimeEquals(String a, String b) {
        return MessageDigest.isEqual(a.getBytes(StandardCharsets.UTF_8), b.getBytes(StandardCharsets.UTF_8));
    }

    private static String sha256Hex(String text) {
        try {
            MessageDigest digest = MessageDigest.getInstance("SHA-256");
            return HexFormat.of().formatHex(digest.digest(text.getBytes(StandardCharsets.UTF_8)));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    private static byte[] hmac(byte[] key, String message) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(key, "HmacSHA256"));
            return mac.doFinal(message.getBytes(StandardCharsets.UTF_8));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }
}
