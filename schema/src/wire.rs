//! The sync protocol's wire types (see `docs/sync-protocol.md`).
//!
//! Every body is JSON; byte fields are base64 ([`Bytes`]) so that the browser build can use
//! the same types. Fields are added, never renamed: unknown fields are ignored on both sides
//! so an older app keeps talking to a newer server.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::people::Role;

/// The protocol version this build speaks. 2: push and pull bodies may also be binary
/// frames ([`crate::frame`]); JSON bodies are still served to protocol 1 devices.
pub const PROTOCOL_VERSION: u32 = 2;

/// The oldest protocol version a server still serves; older devices get `426 update_required`.
pub const MIN_PROTOCOL_VERSION: u32 = 1;

/// Opaque bytes (Automerge changes or documents), base64 (standard alphabet, padded) in JSON.
#[derive(Clone, PartialEq, Eq, Default)]
#[cfg_attr(
    feature = "openapi",
    derive(utoipa::ToSchema),
    schema(value_type = String, format = Byte)
)]
pub struct Bytes(pub Vec<u8>);

impl Bytes {
    /// The raw bytes.
    pub fn as_slice(&self) -> &[u8] {
        &self.0
    }

    /// Unwraps the raw bytes.
    pub fn into_vec(self) -> Vec<u8> {
        self.0
    }

    /// Number of raw bytes.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are no bytes.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl From<Vec<u8>> for Bytes {
    fn from(v: Vec<u8>) -> Self {
        Self(v)
    }
}

impl AsRef<[u8]> for Bytes {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

/// Prints the length only: the bytes may hold residents' personal data.
impl fmt::Debug for Bytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Bytes({} bytes)", self.0.len())
    }
}

impl Serialize for Bytes {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&STANDARD.encode(&self.0))
    }
}

impl<'de> Deserialize<'de> for Bytes {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = Bytes;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a base64 string")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Bytes, E> {
                STANDARD
                    .decode(v)
                    .map(Bytes)
                    .map_err(|_| E::custom("invalid base64"))
            }
        }
        d.deserialize_str(V)
    }
}

/// `POST /v1/login`: a device signs its user in and registers itself.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LoginRequest {
    /// Login name.
    pub user: String,
    /// Password (checked against the Argon2 hash, never stored or logged).
    pub password: String,
    /// The device's own stable id; logging in again from it replaces its old token.
    pub device_id: String,
    /// A human name for the device, shown in `gridwork-server device list`.
    #[serde(default)]
    pub device_name: String,
    /// The protocol version the device speaks.
    pub protocol: u32,
    /// The app version, for the device list.
    #[serde(default)]
    pub app_version: String,
}

/// Keeps the password out of logs.
impl fmt::Debug for LoginRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LoginRequest")
            .field("user", &self.user)
            .field("device_id", &self.device_id)
            .field("device_name", &self.device_name)
            .field("protocol", &self.protocol)
            .field("app_version", &self.app_version)
            .finish_non_exhaustive()
    }
}

/// The answer to a login.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LoginResponse {
    /// Bearer token for every other call, bound to this device (the server keeps its hash).
    pub token: String,
    /// Who signed in.
    pub user: UserInfo,
    /// The server's id: a device that finds it changed (a restored or different server)
    /// starts its cursor over.
    pub server_id: String,
    /// The protocol version the server speaks.
    pub protocol: u32,
}

/// Keeps the token out of logs.
impl fmt::Debug for LoginResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LoginResponse")
            .field("user", &self.user)
            .field("server_id", &self.server_id)
            .field("protocol", &self.protocol)
            .finish_non_exhaustive()
    }
}

/// A staff account as the device needs to know it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UserInfo {
    /// Account id (what records name in `created_by.id`).
    pub id: String,
    /// Login name.
    pub login: String,
    /// Display name.
    pub name: String,
    /// Role.
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "grid_worker"))]
    pub role: Role,
    /// Territory scope code.
    pub scope: String,
    /// Department of a department liaison.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub department: Option<String>,
}

/// `POST /v1/push`: documents' changes the server has not acknowledged yet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PushRequest {
    /// Protocol version of the device.
    pub protocol: u32,
    /// Record schema version of the app (`SCHEMA_VERSION`).
    pub schema_version: u32,
    /// One entry per document.
    pub docs: Vec<DocPush>,
}

/// One document's changes in a push.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DocPush {
    /// Record id.
    pub id: String,
    /// Record kind (`case`, `patrol`, …), as the device knows it.
    pub kind: String,
    /// Automerge change bytes (`save_after(synced_heads)`), or a whole saved document.
    pub changes: Bytes,
}

/// The answer to a push: one result per pushed document, in request order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PushResponse {
    /// Per-document results.
    pub results: Vec<DocResult>,
}

/// What became of one pushed document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DocResult {
    /// Record id.
    pub id: String,
    /// Accepted or refused.
    #[serde(flatten)]
    pub outcome: DocOutcome,
}

/// Accepted (the server now holds these heads) or refused (nothing changed on the server).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum DocOutcome {
    /// Merged (or already held): the device records `heads` as acknowledged.
    Accepted {
        /// The server document's heads after the merge (hex change hashes).
        heads: Vec<String>,
    },
    /// Refused: the device keeps its changes, marks the record and shows the message.
    Refused {
        /// Why, for programs.
        code: RefusalCode,
        /// Why, for people (Chinese).
        message_zh: String,
        /// Why, for people (English).
        message_en: String,
    },
}

/// Why a pushed document was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum RefusalCode {
    /// The record lies (or would come to lie) outside the pusher's territory scope.
    OutOfScope,
    /// A new case event is one the pusher's role may not take.
    NotPermitted,
    /// The merged document is not a usable record (no id, wrong id, …).
    Invalid,
    /// The bytes are not Automerge data.
    Corrupt,
    /// The changes build on changes the server does not hold: push the whole document
    /// (`save()`) instead.
    MissingDeps,
    /// A code from a newer server.
    #[serde(other)]
    Unknown,
}

/// `POST /v1/pull`: what changed after `cursor` in the user's scope.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PullRequest {
    /// Protocol version of the device.
    pub protocol: u32,
    /// Record schema version of the app.
    pub schema_version: u32,
    /// The last cursor the server returned, `None` for a fresh device.
    #[serde(default)]
    pub cursor: Option<u64>,
    /// Echo of the previous response's `snapshot` while its `more` was true: continues a
    /// snapshot pass (whole documents) instead of switching to the log half-way.
    #[serde(default)]
    pub snapshot: bool,
    /// Most items wanted (the server caps it).
    #[serde(default)]
    pub limit: Option<u32>,
    /// The layout of [`StoreRow`] the device stores (0: none). With whole documents, a server
    /// that holds rows of this layout sends them instead of the documents' values.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub row_layout: u32,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

/// The response header of a pull page that says what the page's body says of the next one
/// (see [`NextPage`]), so that a device can ask for it before it has read and decoded this one.
pub const NEXT_PAGE_HEADER: &str = "gridwork-next-page";

/// What follows a pull page, as [`NEXT_PAGE_HEADER`] carries it: `end`, `<cursor>`, or
/// `<cursor> snapshot` (a snapshot pass goes on).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NextPage {
    /// Nothing more is waiting (`more` is false).
    End,
    /// More is waiting: pull again from `cursor`, echoing `snapshot`.
    More {
        /// The page's cursor.
        cursor: u64,
        /// The page's `snapshot`.
        snapshot: bool,
    },
}

impl NextPage {
    /// What `page` says of the next one.
    pub fn of(page: &PullResponse) -> Self {
        if page.more {
            NextPage::More {
                cursor: page.cursor,
                snapshot: page.snapshot,
            }
        } else {
            NextPage::End
        }
    }
}

impl fmt::Display for NextPage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NextPage::End => f.write_str("end"),
            NextPage::More {
                cursor,
                snapshot: false,
            } => write!(f, "{cursor}"),
            NextPage::More {
                cursor,
                snapshot: true,
            } => write!(f, "{cursor} snapshot"),
        }
    }
}

impl std::str::FromStr for NextPage {
    type Err = ();

    fn from_str(s: &str) -> Result<Self, ()> {
        if s == "end" {
            return Ok(NextPage::End);
        }
        let (cursor, snapshot) = match s.split_once(' ') {
            Some((c, "snapshot")) => (c, true),
            Some(_) => return Err(()),
            None => (s, false),
        };
        Ok(NextPage::More {
            cursor: cursor.parse().map_err(|_| ())?,
            snapshot,
        })
    }
}

/// One page of a pull.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PullResponse {
    /// Changes (or whole documents), one item per document.
    pub items: Vec<PullItem>,
    /// The cursor to send next time: the last sequence number this page covers.
    pub cursor: u64,
    /// Whether more is waiting: pull again at once.
    pub more: bool,
    /// Whether this page belongs to a snapshot pass (echo it in the next request while `more`).
    #[serde(default)]
    pub snapshot: bool,
    /// The server's id: when it differs from the one the device knows (the server was
    /// restored from a backup, or is another server), the device starts over with no cursor
    /// and pushes its records whole.
    #[serde(default)]
    pub server_id: String,
}

/// One document's part of a pull page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PullItem {
    /// Record id.
    pub id: String,
    /// Record kind.
    pub kind: String,
    /// Concatenated Automerge change bytes, or the whole saved document when `snapshot`.
    pub data: Bytes,
    /// Whether `data` is the whole document.
    pub snapshot: bool,
    /// With a whole document: what the server read from it when it stored it, so that a
    /// device that does not hold the record yet can list it without loading the document.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub materialized: Option<Materialized>,
}

/// A document as read when it was stored: its value and what a device's row needs beside it.
///
/// The server writes it in the same transaction as the document's bytes, so the two never
/// disagree. `value` and `row` stay raw JSON: the server hands on what it stored without
/// parsing it. It stores both and sends one: the row to a device that asked for its layout
/// ([`PullRequest::row_layout`]), the value otherwise.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Materialized {
    /// The newest change time in the document (ms since the epoch, as Automerge records it).
    pub changed_ms: i64,
    /// Unsettled conflicts (concurrent values of one field).
    #[serde(default)]
    pub conflicts: u32,
    /// The document read as JSON: the record, with any fields this version does not know.
    /// Left out when `row` is sent.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Object>))]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<Box<serde_json::value::RawValue>>,
    /// What a device's store writes for the record, worked out from the document by the
    /// server when it stored it, so that the device only inserts it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub row: Option<StoreRow>,
}

impl PartialEq for Materialized {
    fn eq(&self, other: &Self) -> bool {
        self.changed_ms == other.changed_ms
            && self.conflicts == other.conflicts
            && raw_eq(self.value.as_deref(), other.value.as_deref())
            && self.row == other.row
    }
}

impl Eq for Materialized {}

fn raw_eq(
    a: Option<&serde_json::value::RawValue>,
    b: Option<&serde_json::value::RawValue>,
) -> bool {
    a.map(serde_json::value::RawValue::get) == b.map(serde_json::value::RawValue::get)
}

/// A record's row in a device's store, as the server works it out from the document (the
/// device's own code, `gridwork_core::summary::store_row`, in layout `layout`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StoreRow {
    /// The layout it was written in; a device uses a row only in its own layout.
    pub layout: u32,
    /// The record's summary (`gridwork_core::summary::Summary`), which the device's row
    /// stores as it is and reads its columns from.
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub summary: Box<serde_json::value::RawValue>,
    /// The record's report facts, when it has any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub facts: Option<StoreFacts>,
    /// The newest hybrid logical clock stamp among the record's events, which the device's
    /// clock moves past.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub newest: Option<crate::Hlc>,
}

impl PartialEq for StoreRow {
    fn eq(&self, other: &Self) -> bool {
        self.layout == other.layout
            && self.summary.get() == other.summary.get()
            && self.facts == other.facts
            && self.newest == other.newest
    }
}

impl Eq for StoreRow {}

/// A record's report facts in a [`StoreRow`]; kind and territory are the summary's.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StoreFacts {
    /// The first day the record counts (`YYYY-MM-DD`).
    pub day: String,
    /// The last day it counts; `9999-12-31` while open.
    pub until: String,
    /// The kind's facts, stored as they are.
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub data: Box<serde_json::value::RawValue>,
}

impl PartialEq for StoreFacts {
    fn eq(&self, other: &Self) -> bool {
        self.day == other.day && self.until == other.until && self.data.get() == other.data.get()
    }
}

impl Eq for StoreFacts {}

/// `POST /v1/docs`: whole documents by id (for a device missing a change's dependencies).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DocsRequest {
    /// Protocol version of the device.
    pub protocol: u32,
    /// Record schema version of the app.
    #[serde(default)]
    pub schema_version: u32,
    /// Record ids.
    pub ids: Vec<String>,
}

/// The documents asked for that exist and lie in the user's scope.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DocsResponse {
    /// Whole documents (`snapshot: true`).
    pub items: Vec<PullItem>,
    /// Ids that do not exist or are outside the user's scope.
    #[serde(default)]
    pub missing: Vec<String>,
}

/// `HEAD`/`PUT /v1/attachments/{sha256}`: how much of an attachment the server holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UploadStatus {
    /// SHA-256 (hex) of the whole attachment.
    pub sha256: String,
    /// Bytes held so far: the next chunk's offset.
    pub offset: u64,
    /// The attachment's total length.
    pub length: u64,
    /// Whether it is complete, verified and readable.
    pub complete: bool,
}

/// The body of every error answer (4xx and 5xx).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ErrorBody {
    /// Stable machine-readable code, e.g. `unauthorized`, `update_required`, `too_large`.
    pub code: String,
    /// What was wrong, for people (English; never personal data).
    pub message: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_next_page_header_reads_back_what_it_says_and_refuses_anything_else() {
        for next in [
            NextPage::End,
            NextPage::More {
                cursor: 0,
                snapshot: false,
            },
            NextPage::More {
                cursor: u64::MAX,
                snapshot: true,
            },
        ] {
            assert_eq!(next.to_string().parse(), Ok(next), "{next}");
        }
        for bad in [
            "",
            "-1",
            "12 log",
            "12 snapshot x",
            "snapshot",
            "END",
            " 12",
        ] {
            assert_eq!(bad.parse::<NextPage>(), Err(()), "{bad:?}");
        }
    }

    #[test]
    fn bytes_are_base64_and_debug_hides_them() {
        let b = Bytes(vec![0, 1, 2, 250]);
        let s = serde_json::to_string(&b).unwrap();
        assert_eq!(s, "\"AAEC+g==\"");
        assert_eq!(serde_json::from_str::<Bytes>(&s).unwrap(), b);
        assert!(serde_json::from_str::<Bytes>("\"***\"").is_err());
        assert_eq!(format!("{b:?}"), "Bytes(4 bytes)");
    }

    #[test]
    fn doc_results_are_tagged_by_status() {
        let r = DocResult {
            id: "x".into(),
            outcome: DocOutcome::Refused {
                code: RefusalCode::OutOfScope,
                message_zh: "超出".into(),
                message_en: "out".into(),
            },
        };
        let v = serde_json::to_value(&r).unwrap();
        assert_eq!(v["status"], "refused");
        assert_eq!(v["code"], "out_of_scope");
        assert_eq!(serde_json::from_value::<DocResult>(v).unwrap(), r);
        let newer: RefusalCode = serde_json::from_str("\"quota\"").unwrap();
        assert_eq!(newer, RefusalCode::Unknown);
    }

    #[test]
    fn secrets_stay_out_of_debug() {
        let l = LoginRequest {
            user: "grid".into(),
            password: "hunter2".into(),
            device_id: "d".into(),
            device_name: String::new(),
            protocol: PROTOCOL_VERSION,
            app_version: String::new(),
        };
        assert!(!format!("{l:?}").contains("hunter2"));
    }
}
