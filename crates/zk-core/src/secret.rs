//! Values that must never reach a log line, an error message or a config dump.

use std::fmt;

/// A secret value. `Debug` and `Display` print `<redacted>`; read it with [`Secret::expose`].
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Secret<T = String>(T);

impl<T> Secret<T> {
    pub fn new(value: T) -> Self {
        Self(value)
    }

    /// The only way to the value: a grep for `expose` finds every place a secret is used.
    pub fn expose(&self) -> &T {
        &self.0
    }
}

impl<T> fmt::Debug for Secret<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

impl<T> fmt::Display for Secret<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Self {
        Self(value)
    }
}

/// A URL with its password (and any `password=` query parameter) replaced by `<redacted>`,
/// safe to log. Input that is not a URL is returned unchanged when it carries no `@`.
pub fn redact_url(url: &str) -> String {
    let mut out = match url.split_once("://") {
        Some((scheme, rest)) => {
            let (authority, tail) = match rest.find(['/', '?']) {
                Some(i) => rest.split_at(i),
                None => (rest, ""),
            };
            match authority.rsplit_once('@') {
                Some((userinfo, host)) => {
                    let user = userinfo.split_once(':').map_or(userinfo, |(u, _)| u);
                    let masked = if userinfo.contains(':') { format!("{user}:<redacted>") } else { user.to_owned() };
                    format!("{scheme}://{masked}@{host}{tail}")
                }
                None => url.to_owned(),
            }
        }
        None if url.contains('@') => "<redacted>".to_owned(),
        None => url.to_owned(),
    };
    for key in ["password=", "sslpassword="] {
        if let Some(start) = out.find(key) {
            let value_start = start + key.len();
            let value_end = out[value_start..].find('&').map_or(out.len(), |i| value_start + i);
            out.replace_range(value_start..value_end, "<redacted>");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_never_prints_its_value() {
        let secret = Secret::new("hunter2".to_owned());
        assert_eq!(format!("{secret:?} {secret}"), "<redacted> <redacted>");
        assert_eq!(secret.expose(), "hunter2");
    }

    #[test]
    fn database_urls_lose_their_passwords() {
        assert_eq!(
            redact_url("postgres://zk:s3cr%40t@db.local:5432/zk?sslmode=require"),
            "postgres://zk:<redacted>@db.local:5432/zk?sslmode=require"
        );
        assert_eq!(redact_url("postgres://zk@db/zk"), "postgres://zk@db/zk");
        assert_eq!(redact_url("sqlite:///tmp/zk.db"), "sqlite:///tmp/zk.db");
        assert_eq!(
            redact_url("postgres://db/zk?user=a&password=b&x=1"),
            "postgres://db/zk?user=a&password=<redacted>&x=1"
        );
        assert_eq!(redact_url("redis://:pw@127.0.0.1:6379/0"), "redis://:<redacted>@127.0.0.1:6379/0");
    }
}
