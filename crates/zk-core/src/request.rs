//! Who is asking: the types every service takes from a front door with a request.

use crate::error::{CoreError, CoreResult};
use crate::store::Role;

/// Who made a request, for audit entries.
#[derive(Debug, Clone, Default)]
pub struct RequestMeta {
    pub ip: Option<String>,
    pub request_id: Option<String>,
    pub client: Option<String>,
}

/// An authenticated caller, with the role as stored now (not as it was when the token was issued).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub user_id: i64,
    pub username: String,
    pub role: Role,
    pub session_id: String,
}

impl Principal {
    pub fn require(&self, role: Role) -> CoreResult<()> {
        if self.role >= role {
            Ok(())
        } else {
            Err(CoreError::Forbidden(format!("this needs the {} role; you are {}", role.as_str(), self.role.as_str())))
        }
    }
}
