//! The PFX password an admin chooses: confirmation and a strength hint. A PFX
//! protects its private key only as well as this password does.

use serde::Serialize;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub enum Strength {
    Weak,
    Fair,
    Strong,
}

impl Strength {
    pub fn label(self) -> &'static str {
        match self {
            Strength::Weak => "weak",
            Strength::Fair => "fair",
            Strength::Strong => "strong",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, serde::Deserialize)]
pub enum PasswordError {
    #[error("Enter a password: the PFX holds the private key and must be protected.")]
    Empty,
    #[error("The two passwords differ: type the same password in both fields.")]
    Mismatch,
}

/// A rough estimate, from length and character classes: enough to tell an
/// admin that `123456` is weak, not a cracking-time model.
pub fn strength(password: &str) -> Strength {
    let len = password.chars().count();
    let classes = [
        password.chars().any(|c| c.is_lowercase()),
        password.chars().any(|c| c.is_uppercase()),
        password.chars().any(|c| c.is_numeric()),
        password.chars().any(|c| !c.is_alphanumeric()),
    ]
    .iter()
    .filter(|&&b| b)
    .count();
    let distinct = {
        let mut v: Vec<char> = password.chars().collect();
        v.sort_unstable();
        v.dedup();
        v.len()
    };
    if len >= 16 && distinct >= 8 || len >= 12 && classes >= 3 && distinct >= 6 {
        Strength::Strong
    } else if len >= 10 && classes >= 2 && distinct >= 5 {
        Strength::Fair
    } else {
        Strength::Weak
    }
}

/// What the admin sees under the password field.
pub fn hint(password: &str) -> String {
    match strength(password) {
        Strength::Weak => {
            "Weak: use 12 or more characters mixing letters, digits and symbols.".into()
        }
        Strength::Fair => {
            "Fair: longer is stronger — 12+ characters with three kinds of character.".into()
        }
        Strength::Strong => "Strong.".into(),
    }
}

/// A password and its confirmation, as typed.
pub fn confirm(password: &str, confirmation: &str) -> Result<(), PasswordError> {
    if password.is_empty() {
        Err(PasswordError::Empty)
    } else if password != confirmation {
        Err(PasswordError::Mismatch)
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grades_passwords() {
        assert_eq!(strength(""), Strength::Weak);
        assert_eq!(strength("123456"), Strength::Weak);
        assert_eq!(strength("aaaaaaaaaaaaaaaaaaaa"), Strength::Weak);
        assert_eq!(strength("backup2024x"), Strength::Fair);
        assert_eq!(strength("Backup-Vault-2024"), Strength::Strong);
        assert_eq!(strength("correct horse battery staple"), Strength::Strong);
        assert!(hint("123").starts_with("Weak"));
    }

    #[test]
    fn confirmation_must_match_and_not_be_empty() {
        assert_eq!(confirm("", ""), Err(PasswordError::Empty));
        assert_eq!(
            confirm("a-Secret-1", "a-secret-1"),
            Err(PasswordError::Mismatch)
        );
        assert_eq!(confirm("a-Secret-1", "a-Secret-1"), Ok(()));
        // Non-ASCII passwords are fine: PKCS#12 encodes them as BMPString.
        assert_eq!(confirm("pässwörd-€", "pässwörd-€"), Ok(()));
    }
}
