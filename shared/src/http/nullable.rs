//! Request fields that may be left out or sent as `null`, and mean different things.

use serde::{Deserialize, Deserializer};

/// For `#[serde(default, deserialize_with = "shared::http::present")]` on an `Option<Option<T>>`:
/// a field left out → `None`, sent as `null` → `Some(None)` (which clears it).
///
/// # Errors
/// When the value is not a `T`.
pub fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_field_left_out_differs_from_one_sent_as_null() {
        #[derive(Deserialize)]
        struct Body {
            #[serde(default, deserialize_with = "present")]
            note: Option<Option<String>>,
        }
        let read = |json: &str| serde_json::from_str::<Body>(json).expect("a body").note;
        assert_eq!(read("{}"), None);
        assert_eq!(read(r#"{"note": null}"#), Some(None));
        assert_eq!(read(r#"{"note": "hi"}"#), Some(Some("hi".to_owned())));
    }
}
