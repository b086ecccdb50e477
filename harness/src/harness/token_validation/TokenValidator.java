package harness.tokenvalidation;

import java.io.IOException;
import java.util.List;
import java.util.Map;
import java.util.Set;
import javax.security.auth.callback.Callback;
import javax.security.auth.callback.UnsupportedCallbackException;
import javax.security.auth.login.AppConfigurationEntry;
import org.apache.kafka.common.security.auth.AuthenticateCallbackHandler;
import org.apache.kafka.common.security.oauthbearer.OAuthBearerExtensionsValidatorCallback;
import org.apache.kafka.common.security.oauthbearer.OAuthBearerToken;
import org.apache.kafka.common.security.oauthbearer.OAuthBearerTokenCallback;
import org.apache.kafka.common.security.oauthbearer.OAuthBearerValidatorCallback;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The broker side of a managed service's OAUTHBEARER authentication, for tests: a subclass reads its JAAS options in
 * configure() and checks a token in check(), which returns the authenticated token or throws Rejected with why. A
 * rejected token fails the client's authentication with invalid_token, as the managed services answer, and the reason
 * goes to one WARN line of the broker's log (under the subclass's logger), never to the client.
 *
 * <p>It is also the listener's login callback handler: the broker never authenticates itself on such a listener (its
 * inter-broker listener is PLAINTEXT), and the default unsecured login handler would read the subclass's options as
 * the claims of a token for the broker and refuse to start it ("No principal name in JWT claim: sub").
 */
public abstract class TokenValidator implements AuthenticateCallbackHandler {
    private final Logger log = LoggerFactory.getLogger(getClass());
    private final String service;

    /** service: how the broker's log names the authentication, "SERVICE authentication failed: REASON". */
    protected TokenValidator(String service) {
        this.service = service;
    }

    /** The token's principal and lifetime, or Rejected with why the service would refuse it. */
    protected abstract OAuthBearerToken check(String tokenValue) throws Rejected;

    /** The options of the listener's one JAAS login module. */
    protected static Map<String, ?> options(List<AppConfigurationEntry> jaasConfigEntries) {
        if (jaasConfigEntries.size() != 1) {
            throw new IllegalArgumentException("expected one JAAS login module, got " + jaasConfigEntries.size());
        }
        return jaasConfigEntries.get(0).getOptions();
    }

    protected static String requiredOption(Map<String, ?> options, String name) {
        Object value = options.get(name);
        if (value == null || value.toString().isBlank()) {
            throw new IllegalArgumentException("the JAAS option " + name + " is required");
        }
        return value.toString();
    }

    @Override
    public final void handle(Callback[] callbacks) throws IOException, UnsupportedCallbackException {
        for (Callback callback : callbacks) {
            if (callback instanceof OAuthBearerValidatorCallback validation) {
                validate(validation);
            } else if (callback instanceof OAuthBearerExtensionsValidatorCallback extensions) {
                extensions.inputExtensions().map().keySet().forEach(extensions::valid);
            } else if (callback instanceof OAuthBearerTokenCallback login) {
                login.token(null);
            } else {
                throw new UnsupportedCallbackException(callback);
            }
        }
    }

    @Override
    public void close() {}

    private void validate(OAuthBearerValidatorCallback callback) {
        try {
            callback.token(check(callback.tokenValue()));
        } catch (Rejected rejected) {
            log.warn("{} authentication failed: {}", service, rejected.getMessage());
            callback.error("invalid_token", null, null);
        }
    }

    /** Why a token is refused; no stack trace, as it is an answer, not a fault. */
    public static final class Rejected extends Exception {
        private static final long serialVersionUID = 1L;

        public Rejected(String reason) {
            super(reason, null, false, false);
        }
    }

    /** An accepted token: its principal, when it was issued (null if unknown) and until when it is good. */
    public record Token(String value, String principalName, Long startTimeMs, long lifetimeMs, Set<String> scope)
            implements OAuthBearerToken {}
}
