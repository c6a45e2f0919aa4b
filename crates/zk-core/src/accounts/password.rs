//! Password hashing (argon2id) and the password policy (ASVS V6: length, no truncation, no common
//! passwords, any characters).

use std::sync::LazyLock;

use argon2::password_hash::rand_core::{OsRng, RngCore};
use argon2::password_hash::{Output, ParamsString, PasswordHash, Salt, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};

use crate::error::{CoreError, CoreResult};

/// OWASP's minimum for argon2id: 19 MiB, two passes, one lane.
const MEMORY_KIB: u32 = 19 * 1024;
const ITERATIONS: u32 = 2;
const PARALLELISM: u32 = 1;

/// The most memory a stored hash may ask for when it is checked (a row edited by hand), in KiB.
const MAX_CHECK_MEMORY_KIB: u32 = 4 * MEMORY_KIB;

pub const MIN_LENGTH: usize = 8;
pub const MAX_LENGTH: usize = 128;

/// A few hundred of the most used passwords (lower-cased), from public breach lists.
const COMMON: &str = include_str!("common-passwords.txt");

fn params() -> Params {
    // The constants above are valid parameters; the fallback arm cannot be reached.
    Params::new(MEMORY_KIB, ITERATIONS, PARALLELISM, None).unwrap_or_default()
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

/// The working memory of one hash (19 MiB with today's parameters), kept and reused by a worker of
/// the hashing pool: the pool's memory is then its workers' buffers, allocated once, and not
/// whatever the allocator keeps of thousands of 19 MiB allocations freed on many threads.
#[derive(Default)]
pub struct HashMemory(Vec<Block>);

impl HashMemory {
    fn blocks(&mut self, count: usize) -> &mut [Block] {
        if self.0.len() < count {
            self.0.resize(count, Block::default());
        }
        &mut self.0[..count]
    }
}

/// Hashes with argon2id; CPU-heavy (tens of ms), so callers run it in the hashing pool.
pub fn hash(password: &str) -> CoreResult<String> {
    hash_in(&mut HashMemory::default(), password)
}

/// [`hash`] in the given working memory.
pub fn hash_in(memory: &mut HashMemory, password: &str) -> CoreResult<String> {
    let salt = SaltString::generate(&mut OsRng);
    compute(Algorithm::Argon2id, Version::V0x13, params(), password.as_bytes(), salt.as_salt(), memory)
        .map(|h| h.to_string())
        .map_err(|e| CoreError::Internal(anyhow::anyhow!("password hashing failed: {e}")))
}

/// Whether `password` matches `phc`, and whether the stored hash should be re-hashed with today's
/// parameters.
pub fn verify(password: &str, phc: &str) -> (bool, bool) {
    verify_in(&mut HashMemory::default(), password, phc)
}

/// [`verify`] in the given working memory.
pub fn verify_in(memory: &mut HashMemory, password: &str, phc: &str) -> (bool, bool) {
    let Ok(parsed) = PasswordHash::new(phc) else { return (false, false) };
    let Ok(params) = Params::try_from(&parsed) else { return (false, false) };
    let current =
        parsed.algorithm.as_str() == "argon2id" && params.m_cost() >= MEMORY_KIB && params.t_cost() >= ITERATIONS;
    let ok = matches_stored(memory, password, &parsed, params).unwrap_or(false);
    (ok, ok && !current)
}

/// Computes the hash of `password` with the stored hash's algorithm, version, parameters and salt
/// and compares the outputs (`Output`'s equality is constant-time).
fn matches_stored(
    memory: &mut HashMemory,
    password: &str,
    stored: &PasswordHash<'_>,
    params: Params,
) -> argon2::password_hash::Result<bool> {
    if params.m_cost() > MAX_CHECK_MEMORY_KIB {
        return Ok(false);
    }
    let algorithm = Algorithm::try_from(stored.algorithm)?;
    let version = stored.version.map(Version::try_from).transpose()?.unwrap_or_default();
    let (Some(salt), Some(expected)) = (stored.salt, stored.hash) else { return Ok(false) };
    let computed = compute(algorithm, version, params, password.as_bytes(), salt, memory)?;
    Ok(computed.hash == Some(expected))
}

/// What `PasswordHasher::hash_password` does, in `memory` instead of a fresh allocation.
fn compute<'a>(
    algorithm: Algorithm,
    version: Version,
    params: Params,
    password: &[u8],
    salt: Salt<'a>,
    memory: &mut HashMemory,
) -> argon2::password_hash::Result<PasswordHash<'a>> {
    let mut salt_buffer = [0u8; 64];
    let salt_bytes = salt.decode_b64(&mut salt_buffer)?;
    let blocks = memory.blocks(params.block_count());
    let output_len = params.output_len().unwrap_or(Params::DEFAULT_OUTPUT_LEN);
    let param_string = ParamsString::try_from(&params)?;
    let argon2 = Argon2::new(algorithm, version, params);
    let output = Output::init_with(output_len, |out| {
        Ok(argon2.hash_password_into_with_memory(password, salt_bytes, out, &mut *blocks)?)
    })?;
    Ok(PasswordHash {
        algorithm: algorithm.ident(),
        version: Some(version.into()),
        params: param_string,
        salt: Some(salt),
        hash: Some(output),
    })
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
    fn hashes_agree_with_the_argon2_crates_own_hasher_and_verifier() {
        use argon2::password_hash::{PasswordHasher, PasswordVerifier};
        let ours = hash("correct horse battery").expect("hash");
        let parsed = PasswordHash::new(&ours).expect("a PHC string");
        assert!(Argon2::default().verify_password(b"correct horse battery", &parsed).is_ok(), "{ours}");
        assert!(Argon2::default().verify_password(b"correct horse batterz", &parsed).is_err());
        let theirs = Argon2::new(Algorithm::Argon2id, Version::V0x13, params())
            .hash_password(b"correct horse battery", &SaltString::generate(&mut OsRng))
            .expect("hash")
            .to_string();
        let mut memory = HashMemory::default();
        assert_eq!(verify_in(&mut memory, "correct horse battery", &theirs), (true, false));
        assert_eq!(verify_in(&mut memory, "correct horse battery", &ours), (true, false), "memory is reused");
        assert_eq!(verify_in(&mut memory, "wrong", &ours), (false, false));
        assert_eq!(memory.0.len(), params().block_count(), "one hash's blocks, kept");
    }

    #[test]
    fn weaker_stored_hashes_are_flagged_for_rehash() {
        use argon2::password_hash::PasswordHasher;
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
