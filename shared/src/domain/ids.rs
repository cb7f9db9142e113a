//! Typed ids: UUIDv7 newtypes, one per table, so an `AccountId` can never be passed where a
//! `CategoryId` is expected. v7 ids sort by creation time, which keeps primary-key indexes compact.

use std::fmt;
use std::str::FromStr;

use uuid::Uuid;

use super::ParseError;

/// A new UUIDv7 made by PostgreSQL, for rows a statement makes without a request naming them (the
/// scheduler's): a random v4 whose first 48 bits become the Unix time in milliseconds and whose
/// version nibble becomes 7 (bits 52 and 53 set; its variant bits are already RFC 9562's).
pub const NEW_ID_SQL: &str = "encode(set_bit(set_bit(overlay(uuid_send(gen_random_uuid()) \
     placing substring(int8send((extract(epoch FROM clock_timestamp()) * 1000)::bigint) FROM 3) \
     FROM 1 FOR 6), 52, 1), 53, 1), 'hex')::uuid";

macro_rules! typed_id {
    ($($(#[$doc:meta])* $name:ident;)*) => {$(
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(Uuid);

        impl $name {
            /// A new, time-ordered id.
            pub fn new() -> Self {
                Self(Uuid::now_v7())
            }

            /// Parses the hyphenated form; only UUIDv7 (the only kind this service makes) is accepted.
            ///
            /// # Errors
            /// [`ParseError::InvalidId`] for anything else.
            pub fn parse(text: &str) -> Result<Self, ParseError> {
                let uuid = Uuid::try_parse(text).map_err(|_| ParseError::InvalidId)?;
                if uuid.get_version_num() == 7 { Ok(Self(uuid)) } else { Err(ParseError::InvalidId) }
            }

            pub fn as_uuid(&self) -> &Uuid {
                &self.0
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.hyphenated().fmt(f)
            }
        }

        impl FromStr for $name {
            type Err = ParseError;
            fn from_str(text: &str) -> Result<Self, ParseError> {
                Self::parse(text)
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.collect_str(self)
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
                Self::parse(&text).map_err(serde::de::Error::custom)
            }
        }
    )*};
}

typed_id! {
    /// A household: the tenant every other row belongs to.
    HouseholdId;
    UserId;
    RefreshTokenId;
    /// The chain of refresh tokens issued from one login; revoked together on reuse.
    TokenFamilyId;
    InvitationId;
    AccountId;
    CategoryGroupId;
    CategoryId;
    PayeeId;
    TransactionId;
    /// A transaction that repeats: the scheduler makes a real one from it each time it falls due.
    ScheduledTransactionId;
    /// One line of a split scheduled transaction.
    ScheduledLineId;
    /// Allocations are addressed by (category, month) in the API; the id is still a UUIDv7 key.
    BudgetAllocationId;
    /// One kept `Idempotency-Key`: the request it answered and, once answered, the answer.
    IdempotencyRecordId;
    /// The id of a deleted row, kept so that delta sync can report the deletion.
    TombstoneId;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_hyphenated_v7_ids_parse() {
        let id = AccountId::new();
        assert_eq!(AccountId::parse(&id.to_string()), Ok(id));
        assert_eq!(id.as_uuid().get_version_num(), 7);
        let v4 = "9f1c2b1e-4d7a-4c3e-9a5b-2f6d8e0c1a3b";
        for bad in [v4, "1", "", "not-an-id", &id.to_string()[1..]] {
            assert_eq!(AccountId::parse(bad), Err(ParseError::InvalidId), "{bad:?}");
        }
    }

    #[test]
    fn new_ids_sort_by_creation() {
        let ids: Vec<TransactionId> = (0..100).map(|_| TransactionId::new()).collect();
        let mut sorted = ids.clone();
        sorted.sort();
        assert_eq!(ids, sorted);
    }

    #[test]
    fn json_refuses_an_id_of_the_wrong_kind_of_uuid() {
        let id = PayeeId::new();
        let text = serde_json::to_string(&id).expect("text");
        assert_eq!(serde_json::from_str::<PayeeId>(&text).expect("an id"), id);
        assert!(serde_json::from_str::<PayeeId>("\"9f1c2b1e-4d7a-4c3e-9a5b-2f6d8e0c1a3b\"").is_err());
    }
}
