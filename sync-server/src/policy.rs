//! Who may see and change what: the read scope of each role, and the push verdict reached
//! after merging a document (scope before and after, case events the role may take).
//!
//! | role | reads |
//! | --- | --- |
//! | grid worker | records in their grid, and records naming them |
//! | legal worker, mediator | records in their community, and records naming them (a mediator: the mediations they run) |
//! | street officer | records in their street |
//! | department | only the records naming their department (the cases it reported in on) |
//! | leader, supervisor, admin | records under their scope (the district for district staff) |
//!
//! Writes must stay inside the user's territory scope (or in records naming them) before and
//! after the merge; for a department that is its territory scope, so that it can report in on
//! a case it does not yet see.

use std::sync::Arc;

use gridwork_core::doc::{DocError, RecordDoc, format_heads};
use gridwork_core::report::Facts;
use gridwork_core::summary::{
    Summary, new_case_events, newest_event, parse_record, store_row, summarize, summarize_record,
    within_scope,
};
use gridwork_schema::wire::{DocPush, RefusalCode};
use gridwork_schema::{Label, Level, Role};
use serde_json::Value;

use crate::report::FactsRow;
use crate::storage::{Decider, Decision, DocRow, DocWrite, ScopeFilter, UserRecord};

/// The actor the server would edit as; it never edits, only merges.
const SERVER_ACTOR: [u8; 16] = *b"gridwork-server\0";

/// The principal naming a user.
pub fn user_principal(user_id: &str) -> String {
    format!("user:{user_id}")
}

/// The principal naming a department.
pub fn dept_principal(department: &str) -> String {
    format!("dept:{department}")
}

/// What `user` may pull.
pub fn read_filter(user: &UserRecord) -> ScopeFilter {
    let mut principals = vec![user_principal(&user.id)];
    if user.role == Role::Department {
        if let Some(d) = &user.department {
            principals.push(dept_principal(d));
        }
        return ScopeFilter {
            territory: None,
            principals,
        };
    }
    ScopeFilter {
        territory: Some(user.scope.clone()),
        principals,
    }
}

/// Whether `user` may change the record summarized by `s`.
pub fn may_write(user: &UserRecord, s: &Summary) -> bool {
    within_scope(&s.territory, &user.scope)
        || s.principals.contains(&user_principal(&user.id))
        || user
            .department
            .as_ref()
            .is_some_and(|d| s.principals.contains(&dept_principal(d)))
}

fn refuse(code: RefusalCode, zh: impl Into<String>, en: impl Into<String>) -> Decision {
    Decision::Refused {
        code,
        message_zh: zh.into(),
        message_en: en.into(),
    }
}

fn event_ids(v: &Value) -> Vec<&str> {
    v.get("events")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|e| e.get("id").and_then(Value::as_str))
                .collect()
        })
        .unwrap_or_default()
}

/// The materialized row of a summary.
pub fn doc_row(s: &Summary) -> DocRow {
    DocRow {
        id: s.id.clone(),
        kind: s.kind.clone(),
        street: s.territory.street.clone(),
        community: s.territory.community.clone(),
        grid: s.territory.grid.clone(),
        path: s.territory.leaf().to_owned(),
        status: s.status.clone(),
        principals: s.principals.clone(),
    }
}

fn corrupt(e: &DocError) -> Decision {
    refuse(
        RefusalCode::Corrupt,
        "数据已损坏，无法读取",
        format!("the changes are not valid Automerge data: {e}"),
    )
}

fn missing_deps() -> Decision {
    // Some changes wait for changes the server never got: storing the rest would acknowledge
    // what the server does not hold.
    refuse(
        RefusalCode::MissingDeps,
        "服务器缺少此记录的早期修改，请重新上传完整记录",
        "the changes build on changes the server lacks; push the whole document",
    )
}

/// Merges one pushed document into the stored one and decides whether `user` may make it so.
///
/// The work is all Automerge's, so each step is done once: a new record is parsed and applied
/// in one strict load (no separate check), and its pushed bytes are stored and logged as
/// they are (they hold exactly the merged document).
pub fn decide(user: &UserRecord, push: &DocPush, stored: Option<&[u8]>) -> Decision {
    let changes = push.changes.as_slice();
    let (mut doc, old_heads, old_value) = match stored {
        None => match RecordDoc::load_strict(changes, &SERVER_ACTOR) {
            Ok(d) => (d, Vec::new(), Value::Object(serde_json::Map::new())),
            Err(DocError::MissingDeps) => return missing_deps(),
            Err(e) => return corrupt(&e),
        },
        Some(stored) => {
            let mut doc = match RecordDoc::load(stored, &SERVER_ACTOR) {
                Ok(d) => d,
                Err(e) => {
                    tracing::error!(doc = %push.id, error = %e, "stored document does not load");
                    return refuse(
                        RefusalCode::Invalid,
                        "服务器上的记录已损坏，请联系管理员",
                        "the server's copy of this record is damaged; tell the administrator",
                    );
                }
            };
            let old_heads = doc.heads();
            let old_value = doc.to_value();
            // `merge_bytes` checks every chunk before it applies any.
            if let Err(e) = doc.merge_bytes(changes) {
                return corrupt(&e);
            }
            (doc, old_heads, old_value)
        }
    };
    if !doc.automerge().get_missing_deps(&[]).is_empty() {
        return missing_deps();
    }
    let heads = doc.heads();
    if stored.is_some() && heads == old_heads {
        return Decision::Unchanged {
            heads: format_heads(&heads),
        };
    }
    let value = doc.to_value();
    if stored.is_none() && value.as_object().is_none_or(|m| m.is_empty()) {
        return refuse(
            RefusalCode::MissingDeps,
            "服务器缺少此记录的早期修改，请重新上传完整记录",
            "the server lacks this record's earlier changes; push the whole document",
        );
    }
    if value.get("id").and_then(Value::as_str) != Some(push.id.as_str()) {
        return refuse(
            RefusalCode::Invalid,
            "记录编号与上传的编号不一致",
            "the record's id differs from the id it was pushed under",
        );
    }
    // Parsed once, for the row and the report facts.
    let record = parse_record(&value);
    let summary = record
        .as_ref()
        .map_or_else(|| summarize(&value), summarize_record);
    if summary.kind.is_empty() {
        return refuse(
            RefusalCode::Invalid,
            "记录缺少类型",
            "the record has no type",
        );
    }
    let old_summary = stored.map(|_| summarize(&old_value));
    if old_summary.as_ref().is_some_and(|s| !may_write(user, s)) || !may_write(user, &summary) {
        return refuse(
            RefusalCode::OutOfScope,
            "该记录不在您的辖区范围内，修改未被接受",
            "this record lies outside your territory scope; the change was not accepted",
        );
    }
    if summary.kind == "case"
        && let Some(d) = check_case_events(user, &old_value, &value, old_summary.as_ref())
    {
        return d;
    }
    // A new record's pushed bytes hold exactly the document (loaded strictly above, with
    // every dependency present): store and log them as they are rather than paying for a
    // save and a re-encoding of the same changes on every first push.
    let (bytes, changes) = match stored {
        None => (changes.to_vec(), changes.to_vec()),
        Some(_) => (doc.save(), doc.changes_after(&old_heads)),
    };
    let facts = record
        .as_ref()
        .and_then(Facts::from_record)
        .map(|f| FactsRow::of(&push.id, &f));
    // Stored with the device's row worked out, so that a device's first pull only inserts.
    let materialized = doc
        .materialize(&value)
        .map(|mut m| {
            let newest = newest_event(record.as_ref(), &value);
            m.row = store_row(&summary, facts.as_ref(), newest);
            m
        })
        .and_then(|m| serde_json::to_string(&m).ok());
    Decision::Write {
        write: DocWrite {
            row: doc_row(&summary),
            bytes,
            changes,
            materialized,
            facts,
        },
        heads: format_heads(&heads),
    }
}

/// Refuses when a new case event is malformed or one the user's role may not take.
fn check_case_events(
    user: &UserRecord,
    old: &Value,
    new: &Value,
    old_summary: Option<&Summary>,
) -> Option<Decision> {
    let old_ids = event_ids(old);
    let added = event_ids(new)
        .into_iter()
        .filter(|id| !old_ids.contains(id))
        .count();
    let events = new_case_events(old, new);
    if events.len() != added {
        return Some(refuse(
            RefusalCode::Invalid,
            "新增的事项事件格式不正确",
            "a new case event is malformed",
        ));
    }
    let current = old_summary
        .and_then(|s| s.level)
        .unwrap_or(Level::Community);
    for e in events {
        let action = e.kind.action();
        let named = e.kind.named_level();
        let level = named.unwrap_or(current);
        if !user.role.may_take(action, level) {
            let (lzh, len) = match named {
                Some(l) => (format!("（{}级）", l.zh()), format!(" at {} level", l.en())),
                None => (String::new(), String::new()),
            };
            return Some(refuse(
                RefusalCode::NotPermitted,
                format!("{}无权执行“{}{}”", user.role.zh(), action.zh(), lzh),
                format!("a {} may not {}{}", user.role.en(), action.en(), len),
            ));
        }
    }
    None
}

/// The push decider for `user`, to hand to [`crate::Storage::push`].
pub fn decider(user: UserRecord) -> Decider {
    Arc::new(move |push, stored| decide(&user, push, stored))
}
