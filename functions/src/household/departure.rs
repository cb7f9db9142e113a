//! A member's departure from a household, written once for the two ways to go: removal or
//! leaving (`DELETE /household/members/{user_id}`), and joining another household
//! (`POST /invitations/accept`).
//!
//! The member's row is deleted, so their tokens stop at once and their sessions, pending
//! invitations and idempotency keys go with it (cascades), and delta sync reports them gone (a
//! tombstone). Their transactions keep who recorded them: a former member's record (their name, a
//! placeholder email under `.invalid`, no password, `left_at`) takes their place as the recorder,
//! also of the schedules they made, which go on making the household's transactions.

/// The common table expressions `former`, `history` and `gone` for the member `:member_id` of
/// `:household_id`, given a CTE `allowed (display_name)` that has a row when they may go.
///
/// `dissolving`, when given, is a condition under which the same statement deletes the household
/// in a CTE `dissolved`: then no former member's record is kept, and the member's row is deleted
/// only after the household's, so that the household's cascade has removed their transactions
/// before the check that nothing names them.
pub fn departure(dissolving: Option<&str>) -> String {
    let (keeps_history, after) = match dissolving {
        None => ("true".to_owned(), String::new()),
        Some(condition) => (
            format!("NOT ({condition})"),
            format!(" AND (NOT ({condition}) OR EXISTS (SELECT 1 FROM dissolved))"),
        ),
    };
    format!(
        "former AS ( \
           INSERT INTO users (id, household_id, email, password_hash, display_name, role, left_at) \
           SELECT :former_id, :household_id, :former_id::text || '@former-member.invalid', '', \
                  a.display_name, 'member', now() FROM allowed a \
           WHERE {keeps_history} AND (EXISTS (SELECT 1 FROM transactions \
                         WHERE household_id = :household_id AND created_by = :member_id) \
             OR EXISTS (SELECT 1 FROM scheduled_transactions \
                        WHERE household_id = :household_id AND created_by = :member_id)) \
           RETURNING id), \
         history AS ( \
           UPDATE transactions t SET created_by = former.id FROM former \
           WHERE t.household_id = :household_id AND t.created_by = :member_id \
           RETURNING t.id), \
         schedules_kept AS ( \
           UPDATE scheduled_transactions s SET created_by = former.id FROM former \
           WHERE s.household_id = :household_id AND s.created_by = :member_id \
           RETURNING s.id), \
         gone AS ( \
           DELETE FROM users u \
           WHERE u.id = :member_id AND u.household_id = :household_id \
             AND EXISTS (SELECT 1 FROM allowed){after} \
           RETURNING u.id)"
    )
}
