package harness.idp;

import java.util.List;

import org.springframework.beans.factory.annotation.Value;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.context.annotation.Bean;
import org.springframework.security.oauth2.server.authorization.token.JwtEncodingContext;
import org.springframework.security.oauth2.server.authorization.token.OAuth2TokenCustomizer;

/**
 * The test identity provider of harness/identity_provider.py: Spring Authorization Server as Spring Boot configures
 * it from properties (spring.security.oauth2.authorizationserver.*: the issuer, the clients and their secrets, the
 * token lifetime), signing RS256 JWTs with a key made at start-up. Its one addition: every access token is for the
 * audience harness.audience (the Kafka broker's expected audience), where the server would name the client.
 */
@SpringBootApplication
public class IdentityProvider {

    public static void main(String[] args) {
        SpringApplication.run(IdentityProvider.class, args);
    }

    @Bean
    OAuth2TokenCustomizer<JwtEncodingContext> audience(@Value("${harness.audience}") String audience) {
        return context -> context.getClaims().audience(List.of(audience));
    }
}
