//! Access tokens (JWT, HS256 only), refresh tokens (opaque, stored as keyed hashes) and device
//! cookies (a browser that signed in before, signed with a key derived from the refresh secret).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use crate::secret::Secret;
use crate::store::Timestamp;

pub const AUDIENCE: &str = "zk-agent";
pub const ISSUER: &str = "zk-agent";
/// Clock skew tolerated on `exp` and `nbf`.
pub const LEEWAY_SECS: i64 = 30;
const ACCESS_TYPE: &str = "access";
const REFRESH_PREFIX: &str = "zkr_";
/// What the device-cookie key is derived from the refresh secret with, so neither key can stand in
/// for the other.
const DEVICE_KEY_LABEL: &[u8] = b"zk-agent device cookie v1";

/// A valid device cookie: this browser signed in as `user_id` before (OWASP's device cookies).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceCookie {
    pub user_id: i64,
    /// Random per cookie; failures with this cookie are counted under it.
    pub nonce: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct AccessClaims {
    pub sub: String,
    /// The session (refresh-token family) this token belongs to; revoking it revokes the token.
    pub sid: String,
    pub typ: String,
    pub aud: String,
    pub iss: String,
    pub iat: i64,
    pub nbf: i64,
    pub exp: i64,
}

pub struct TokenKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    refresh_key: Secret<Vec<u8>>,
    device_key: Secret<Vec<u8>>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TokenError {
    #[error("the access token is malformed or its signature is wrong")]
    Invalid,
    #[error("the access token has expired")]
    Expired,
    #[error("the access token is not valid yet")]
    NotYetValid,
    #[error("this is not an access token")]
    WrongType,
}

impl TokenKeys {
    pub fn new(access_secret: &Secret, refresh_secret: &Secret) -> Self {
        let access = access_secret.expose().as_bytes();
        let refresh_key = refresh_secret.expose().as_bytes().to_vec();
        let device_key = mac(&refresh_key, DEVICE_KEY_LABEL).to_vec();
        Self {
            encoding: EncodingKey::from_secret(access),
            decoding: DecodingKey::from_secret(access),
            refresh_key: Secret::new(refresh_key),
            device_key: Secret::new(device_key),
        }
    }

    /// A new device cookie for a browser that just signed in as `user_id`:
    /// `<user id>.<random nonce>.<HMAC-SHA256 of both>`.
    pub fn new_device_cookie(&self, user_id: i64) -> String {
        let mut nonce = [0u8; 16];
        rand::rng().fill_bytes(&mut nonce);
        let signed = format!("{user_id}.{}", URL_SAFE_NO_PAD.encode(nonce));
        let signature = URL_SAFE_NO_PAD.encode(mac(self.device_key.expose(), signed.as_bytes()));
        format!("{signed}.{signature}")
    }

    /// The cookie's user and nonce when its signature is ours; `None` for anything else.
    pub fn verify_device_cookie(&self, cookie: &str) -> Option<DeviceCookie> {
        if cookie.len() > 200 {
            return None;
        }
        let (signed, signature) = cookie.rsplit_once('.')?;
        let (user_id, nonce) = signed.split_once('.')?;
        let signature = URL_SAFE_NO_PAD.decode(signature).ok()?;
        let mut check = Hmac::<Sha256>::new_from_slice(self.device_key.expose()).ok()?;
        check.update(signed.as_bytes());
        // verify_slice compares in constant time.
        check.verify_slice(&signature).ok()?;
        Some(DeviceCookie { user_id: user_id.parse().ok()?, nonce: nonce.to_owned() })
    }

    pub fn issue_access(
        &self,
        user_id: i64,
        session_id: &str,
        now: Timestamp,
        ttl_secs: i64,
    ) -> Result<String, jsonwebtoken::errors::Error> {
        let iat = now.millis() / 1000;
        let claims = AccessClaims {
            sub: user_id.to_string(),
            sid: session_id.to_owned(),
            typ: ACCESS_TYPE.to_owned(),
            aud: AUDIENCE.to_owned(),
            iss: ISSUER.to_owned(),
            iat,
            nbf: iat,
            exp: iat + ttl_secs,
        };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
    }

    /// Verifies signature (HS256 only: `none` and every other algorithm are refused), audience,
    /// issuer and type, then `exp`/`nbf` against `now` (our clock, not the system's).
    pub fn verify_access(&self, token: &str, now: Timestamp) -> Result<AccessClaims, TokenError> {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.algorithms = vec![Algorithm::HS256];
        validation.set_audience(&[AUDIENCE]);
        validation.set_issuer(&[ISSUER]);
        validation.set_required_spec_claims(&["exp", "nbf", "aud", "iss", "sub"]);
        validation.validate_exp = false;
        validation.validate_nbf = false;
        let claims = jsonwebtoken::decode::<AccessClaims>(token, &self.decoding, &validation)
            .map_err(|_| TokenError::Invalid)?
            .claims;
        if claims.typ != ACCESS_TYPE {
            return Err(TokenError::WrongType);
        }
        let now_secs = now.millis() / 1000;
        if claims.exp + LEEWAY_SECS < now_secs {
            return Err(TokenError::Expired);
        }
        if claims.nbf - LEEWAY_SECS > now_secs {
            return Err(TokenError::NotYetValid);
        }
        Ok(claims)
    }

    /// A new refresh token: 256 random bits, prefixed so that leaked tokens are recognisable.
    pub fn new_refresh_token() -> String {
        let mut bytes = [0u8; 32];
        rand::rng().fill_bytes(&mut bytes);
        format!("{REFRESH_PREFIX}{}", URL_SAFE_NO_PAD.encode(bytes))
    }

    /// What the database stores instead of the token: HMAC-SHA256 keyed with JWT_REFRESH_SECRET, so a
    /// stolen database alone cannot be turned into working tokens.
    pub fn refresh_token_hash(&self, token: &str) -> String {
        let mut mac = match Hmac::<Sha256>::new_from_slice(self.refresh_key.expose()) {
            Ok(mac) => mac,
            // HMAC accepts keys of any length.
            Err(_) => unreachable!("HMAC takes any key length"),
        };
        mac.update(token.as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }
}

fn mac(key: &[u8], message: &[u8]) -> [u8; 32] {
    let mut mac = match Hmac::<Sha256>::new_from_slice(key) {
        Ok(mac) => mac,
        Err(_) => unreachable!("HMAC takes any key length"),
    };
    mac.update(message);
    mac.finalize().into_bytes().into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Utc};

    fn keys() -> TokenKeys {
        TokenKeys::new(&Secret::new("a".repeat(40)), &Secret::new("b".repeat(40)))
    }

    fn at(secs: i64) -> Timestamp {
        Timestamp::from(Utc.timestamp_opt(1_800_000_000 + secs, 0).single().expect("valid"))
    }

    #[test]
    fn a_fresh_token_verifies_and_expires_with_leeway() {
        let keys = keys();
        let token = keys.issue_access(7, "s1", at(0), 900).expect("issue");
        let claims = keys.verify_access(&token, at(10)).expect("valid");
        assert_eq!((claims.sub.as_str(), claims.sid.as_str()), ("7", "s1"));
        assert!(keys.verify_access(&token, at(900 + LEEWAY_SECS)).is_ok(), "leeway covers small skew");
        assert_eq!(keys.verify_access(&token, at(900 + LEEWAY_SECS + 1)), Err(TokenError::Expired));
        assert_eq!(keys.verify_access(&token, at(-LEEWAY_SECS - 1)), Err(TokenError::NotYetValid));
    }

    #[test]
    fn forged_tokens_are_refused() {
        let keys = keys();
        let other = TokenKeys::new(&Secret::new("c".repeat(40)), &Secret::new("d".repeat(40)));
        let token = other.issue_access(1, "s", at(0), 900).expect("issue");
        assert_eq!(keys.verify_access(&token, at(1)), Err(TokenError::Invalid), "wrong key");

        let payload = URL_SAFE_NO_PAD.encode(format!(
            r#"{{"sub":"1","sid":"s","typ":"access","aud":"zk-agent","iss":"zk-agent","iat":{0},"nbf":{0},"exp":{1}}}"#,
            1_800_000_000, 1_800_000_900
        ));
        let none = format!("{}.{payload}.", URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT"}"#));
        assert_eq!(keys.verify_access(&none, at(1)), Err(TokenError::Invalid), "alg none");
    }

    #[test]
    fn refresh_hashes_are_keyed_and_stable() {
        let token = TokenKeys::new_refresh_token();
        assert!(token.starts_with("zkr_") && token.len() > 40);
        assert_eq!(keys().refresh_token_hash(&token), keys().refresh_token_hash(&token));
        let other = TokenKeys::new(&Secret::new("a".repeat(40)), &Secret::new("e".repeat(40)));
        assert_ne!(keys().refresh_token_hash(&token), other.refresh_token_hash(&token));
        assert_ne!(TokenKeys::new_refresh_token(), token);
    }

    #[test]
    fn device_cookies_verify_only_with_our_key_and_unchanged() {
        let keys = keys();
        let cookie = keys.new_device_cookie(7);
        let device = keys.verify_device_cookie(&cookie).expect("our cookie verifies");
        assert_eq!(device.user_id, 7);
        assert_ne!(keys.new_device_cookie(7), cookie, "every cookie has its own nonce");
        let other = TokenKeys::new(&Secret::new("a".repeat(40)), &Secret::new("e".repeat(40)));
        assert_eq!(other.verify_device_cookie(&cookie), None, "another server's key does not verify it");
        let forged = cookie.replacen("7.", "8.", 1);
        assert_eq!(keys.verify_device_cookie(&forged), None, "the user id cannot be changed");
        for junk in ["", "7", "7.abc", "7.abc.def", "x.y.z.w", &"a.".repeat(200)] {
            assert_eq!(keys.verify_device_cookie(junk), None, "{junk:?} is not a device cookie");
        }
    }
}
