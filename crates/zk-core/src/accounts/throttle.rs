//! Sign-in throttling that slows a guesser without locking the owner out.
//!
//! Failures are counted in the store (so every instance on the database sees them) under keys:
//!
//! - an account name with a client address: a guesser at one address waits, others do not;
//! - an account name from any client without a device cookie: guessing spread over many addresses
//!   is slowed too, later;
//! - a device cookie (OWASP "Slow Down Online Guessing Attacks with Device Cookies"): a browser that
//!   signed in as this user before is counted on its own, so strangers' failures never slow it;
//! - a user's password change (a wrong current password).
//!
//! Names are keyed whether or not an account has them, so unknown and known names answer alike.
//! Each key allows some failures free, then each attempt waits 2 s doubling to a minute; the wait
//! ends by itself and a quiet hour starts the count again.

use sha2::{Digest, Sha256};

use crate::store::{ThrottleRecord, Timestamp};

/// A count whose last failure is older than this starts again (and its row may be removed).
pub const QUIET_RESET: chrono::Duration = chrono::Duration::hours(1);
/// The longest wait between attempts: never a lock that outlasts a minute.
pub const MAX_DELAY_SECS: i64 = 60;

/// What a count is kept for; each has its own allowance of free failures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// One account name from one client address.
    AccountAtAddress,
    /// One account name from every client without a device cookie for it.
    AccountUntrusted,
    /// One device cookie (a browser that signed in as the account before).
    Device,
    /// One user's password changes.
    PasswordChange,
}

impl Scope {
    fn label(self) -> &'static str {
        match self {
            Self::AccountAtAddress => "account-address",
            Self::AccountUntrusted => "account-untrusted",
            Self::Device => "device",
            Self::PasswordChange => "password-change",
        }
    }

    /// Failures answered without a wait.
    fn free_failures(self) -> i32 {
        match self {
            // Many addresses together: enough that a busy team behind one NAT with a few typos
            // rarely meets it, while a spread-out guesser gets about 60 guesses an hour.
            Self::AccountUntrusted => 20,
            Self::AccountAtAddress | Self::Device | Self::PasswordChange => 4,
        }
    }
}

/// The store key of a count: SHA-256 of its scope and parts, so no typed name is kept and every key
/// has the same short length.
pub fn key(scope: Scope, parts: &[&str]) -> String {
    let mut digest = Sha256::new();
    digest.update(scope.label().as_bytes());
    for part in parts {
        digest.update([0u8]);
        digest.update(part.as_bytes());
    }
    hex::encode(digest.finalize())
}

/// Seconds the next attempt under `record` must wait, when it must.
pub fn delay(scope: Scope, record: &ThrottleRecord, now: Timestamp) -> Option<u64> {
    delay_after(scope, record.failures, record.last_failure_at, now)
}

fn delay_after(scope: Scope, failures: i32, last_failure_at: Timestamp, now: Timestamp) -> Option<u64> {
    if last_failure_at.millis() < now.millis() - QUIET_RESET.num_milliseconds() {
        return None;
    }
    let over = failures - scope.free_failures();
    if over <= 0 {
        return None;
    }
    let delay_secs = 1i64.checked_shl(over.min(16) as u32).unwrap_or(MAX_DELAY_SECS).min(MAX_DELAY_SECS);
    let until = last_failure_at.millis() + delay_secs * 1000;
    (until > now.millis()).then(|| ((until - now.millis()) as u64).div_ceil(1000))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(ms: i64) -> Timestamp {
        Timestamp::from_millis(ms).expect("valid")
    }

    #[test]
    fn delays_grow_are_capped_and_end_by_themselves() {
        let (now, scope) = (at(10_000_000), Scope::AccountAtAddress);
        assert_eq!(delay_after(scope, 4, now, now), None, "the first failures are free");
        assert_eq!(delay_after(scope, 5, now, now), Some(2));
        assert_eq!(delay_after(scope, 6, now, now), Some(4));
        assert_eq!(delay_after(scope, 40, now, now), Some(60), "never more than a minute");
        assert_eq!(delay_after(scope, 40, at(10_000_000 - 60_000), now), None, "the wait ends by itself");
        assert_eq!(delay_after(Scope::AccountUntrusted, 20, now, now), None, "many addresses together get more");
        assert_eq!(delay_after(Scope::AccountUntrusted, 21, now, now), Some(2));
    }

    #[test]
    fn keys_separate_scopes_and_parts() {
        let a = key(Scope::AccountAtAddress, &["ada", "10.0.0.1"]);
        assert_eq!(a.len(), 64);
        assert_eq!(a, key(Scope::AccountAtAddress, &["ada", "10.0.0.1"]));
        assert_ne!(a, key(Scope::AccountAtAddress, &["ada", "10.0.0.2"]));
        assert_ne!(a, key(Scope::AccountUntrusted, &["ada", "10.0.0.1"]));
        assert_ne!(key(Scope::Device, &["ab", "c"]), key(Scope::Device, &["a", "bc"]), "parts are delimited");
    }
}
