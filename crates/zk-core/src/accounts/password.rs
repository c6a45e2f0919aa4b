//! Password hashing (argon2id) and the password policy (ASVS V6: length, no truncation, no common
//! passwords, any characters).

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::rand_core::RngCore;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use std::sync::LazyLock;

use crate::error::{CoreError, CoreResult};

/// OWASP's minimum for argon2id: 19 MiB, two passes, one lane.
const MEMORY_KIB: u32 = 19 * 1024;
const ITERATIONS: u32 = 2;
const PARALLELISM: u32 = 1;

pub const MIN_LENGTH: usize = 8;
pub const MAX_LENGTH: usize = 128;

/// A few hundred of the most used passwords (lower-cased), from public breach lists.
const COMMON: &str = include_str!("common-passwords.txt");

fn argon2() -> Argon2<'static> {
    match Params::new(MEMORY_KIB, ITERATIONS, PARALLELISM, None) {
        Ok(params) => Argon2::new(Algorithm::Argon2id, Version::V0x13, params),
        // The constants above are valid parameters; this arm cannot be reached.
        Err(_) => Argon2::default(),
    }
}

/// Checks a new password against the policy; the message says how to fix it.
pub fn check_policy(password: &str, username: &str) -> CoreResult<()> {
    let length = password.chars().count();
    if length < MIN_LENGTH {
        return Err(CoreError::invalid(
            "password",
            format!("the password has {length} characters; use at least {MIN_LENGTH}"),
        ));
    }
    if length > MAX_LENGTH {
        return Err(CoreError::invalid(
            "password",
            format!("the password has {length} characters; use at most {MAX_LENGTH}"),
        ));
    }
    if password.chars().all(char::is_whitespace) {
        return Err(CoreError::invalid(
            "password",
            "the password is only spaces; use letters, digits or other characters too",
        ));
    }
    let lowered = password.to_lowercase();
    if COMMON.lines().any(|common| common.eq_ignore_ascii_case(&lowered)) {
        return Err(CoreError::invalid("password", "this password is among the most common ones; choose another"));
    }
    if !username.is_empty() && lowered == username.to_lowercase() {
        return Err(CoreError::invalid("password", "the password must not be the user name"));
    }
    Ok(())
}

/// Hashes with argon2id; CPU-heavy (tens of ms), so callers run it on a blocking thread.
pub fn hash(password: &str) -> CoreResult<String> {
    let salt = SaltString::generate(&mut OsRng);
    argon2()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| CoreError::Internal(anyhow::anyhow!("password hashing failed: {e}")))
}

/// Whether `password` matches `phc`, and whether the stored hash should be re-hashed with today's
/// parameters.
pub fn verify(password: &str, phc: &str) -> (bool, bool) {
    let Ok(parsed) = PasswordHash::new(phc) else { return (false, false) };
    let ok = argon2().verify_password(password.as_bytes(), &parsed).is_ok();
    let current = parsed.algorithm.as_str() == "argon2id"
        && Params::try_from(&parsed).is_ok_and(|p| p.m_cost() >= MEMORY_KIB && p.t_cost() >= ITERATIONS);
    (ok, ok && !current)
}

/// A hash to verify against when the user does not exist (or has no password), so that timing does
/// not reveal user names: made once, with today's parameters, of a random password nobody knows.
pub fn dummy_hash() -> &'static str {
    static DUMMY: LazyLock<String> = LazyLock::new(|| {
        let mut unguessable = [0u8; 24];
        OsRng.fill_bytes(&mut unguessable);
        hash(&hex::encode(unguessable)).unwrap_or_else(|_| FALLBACK_DUMMY.to_owned())
    });
    &DUMMY
}

/// Used only if hashing the dummy failed (it does not): a hash with the same parameters.
const FALLBACK_DUMMY: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$2DBy9YVY8x1nSOYZkDbMUtAN3gIE9bxSsK6nmBwvBrs";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_are_argon2id_with_owasp_parameters_and_salted() {
        let a = hash("correct horse battery").expect("hash");
        let b = hash("correct horse battery").expect("hash");
        assert!(a.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{a}");
        assert_ne!(a, b, "two hashes of one password differ by salt");
        assert_eq!(verify("correct horse battery", &a), (true, false));
        assert_eq!(verify("correct horse batterz", &a), (false, false));
    }

    #[test]
    fn weaker_stored_hashes_are_flagged_for_rehash() {
        let weak = Argon2::new(Algorithm::Argon2id, Version::V0x13, Params::new(8 * 1024, 1, 1, None).expect("params"))
            .hash_password(b"correct horse battery", &SaltString::generate(&mut OsRng))
            .expect("hash")
            .to_string();
        assert_eq!(verify("correct horse battery", &weak), (true, true));
    }

    #[test]
    fn policy_follows_asvs() {
        assert!(check_policy("seven77", "u").is_err(), "7 characters are too few");
        assert!(check_policy(&"x".repeat(64), "u").is_ok());
        assert!(check_policy(&"y".repeat(128), "u").is_ok());
        assert!(check_policy(&"z".repeat(129), "u").is_err());
        assert!(check_policy("password123", "u").is_err(), "common passwords are refused");
        assert!(check_policy("Password123", "u").is_err(), "whatever the case");
        assert!(check_policy("设计师的长密码很安全", "u").is_ok(), "any characters count");
        assert!(check_policy("alice-in-wonderland", "alice-in-wonderland").is_err());
        assert!(check_policy(&" ".repeat(12), "u").is_err(), "all spaces are refused");
        assert!(check_policy(" \t\u{3000}\u{a0} \n \t\u{3000}", "u").is_err(), "so is any other whitespace");
        assert!(check_policy("  two words  ", "u").is_ok(), "spaces among other characters are fine");
    }

    #[test]
    fn long_passwords_are_not_truncated() {
        let base = "a".repeat(80);
        let h = hash(&base).expect("hash");
        assert!(!verify(&format!("{base}x"), &h).0, "a character after the 72nd still counts");
    }

    #[test]
    fn dummy_hash_is_a_valid_phc_string_with_todays_parameters() {
        assert!(PasswordHash::new(dummy_hash()).is_ok());
        assert!(dummy_hash().starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "it costs what a real check costs");
        assert_eq!(dummy_hash(), dummy_hash(), "made once");
    }
}
