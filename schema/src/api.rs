//! The app's command protocol: what the UI asks of the device, and what it gets back.
//!
//! Both transports carry exactly these types as JSON: the Tauri command `api` (desktop and
//! mobile) and `POST /api` of the development server that serves the UI to a plain browser.
//! `core::app::App` implements them once.

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::case::{Case, CaseEvent, CaseKind, Category, Channel, Level, RiskLevel};
pub use crate::forms::{NewMediation, NewPetition, NewReception, ReceptionItem};
use crate::ids::RecordId;
use crate::label::Lang;
use crate::mediation::MediationOutcome;
use crate::party::Party;
use crate::patrol::PatrolKind;
use crate::people::UserRef;
use crate::petition::StepMethod;
use crate::record::{Draft, GeoPoint, Record};
use crate::report::{RecordQuery, Report};
use crate::territory::TerritoryPath;
use crate::validate::ValidationErrors;
use crate::wire::UserInfo;

/// The server a fresh install offers on its first-run screen.
pub const DEFAULT_SERVER: &str = "http://127.0.0.1:8787";

/// A request from the UI. Serialized with an `"op"` tag: `{"op": "get_record", "id": …}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum ApiRequest {
    /// Device, session and sync state (the sync bar).
    Status,
    /// Sign in to a server and register this device.
    Login {
        /// Server base URL.
        server: String,
        /// Login name.
        user: String,
        /// Password (never logged).
        password: String,
    },
    /// Sign out and remove every local record from the device.
    Logout,
    /// Sync now and wait for the result.
    SyncNow,
    /// Choose the UI language (kept on the device).
    SetLang {
        /// The language.
        lang: Lang,
    },
    /// What the home screen shows.
    Dashboard,
    /// Records matching a filter, most recently changed first.
    ListRecords {
        /// The filter.
        #[serde(default)]
        filter: RecordFilter,
    },
    /// One record with its sync state.
    GetRecord {
        /// Record id.
        id: RecordId,
    },
    /// Grids in the user's scope whose name or code contains `query` (at most 50).
    Grids {
        /// Text to find.
        #[serde(default)]
        query: String,
    },
    /// Start a patrol of a grid (with the kind's checklist).
    CreatePatrol {
        /// Routine, key or special.
        kind: PatrolKind,
        /// Grid code.
        grid: String,
        /// Theme of a special screening.
        #[serde(default)]
        theme: Option<String>,
    },
    /// Tick or untick a checklist item of a patrol.
    SetChecklistItem {
        /// Patrol id.
        id: RecordId,
        /// Checklist item id.
        item: String,
        /// Done or not.
        done: bool,
    },
    /// Add a finding to a patrol.
    AddFinding {
        /// Patrol id.
        id: RecordId,
        /// What was found.
        text: String,
    },
    /// Set (or clear) a patrol's location.
    SetLocation {
        /// Patrol id.
        id: RecordId,
        /// The position, or `None` to clear it.
        location: Option<GeoPoint>,
    },
    /// Attach a photo to a patrol (stored once by SHA-256).
    AddPhoto {
        /// Patrol id.
        id: RecordId,
        /// File name.
        name: String,
        /// MIME type.
        media_type: String,
        /// The bytes, base64 (standard alphabet).
        data: String,
    },
    /// An attachment's bytes (fetched from the server if this device lacks them).
    GetPhoto {
        /// SHA-256 of the content.
        sha256: String,
        /// MIME type.
        media_type: String,
    },
    /// Finish a patrol (sets its end time).
    FinishPatrol {
        /// Patrol id.
        id: RecordId,
    },
    /// Register a case.
    CreateCase(NewCase),
    /// Register a case from a patrol's finding, in one tap; links both ways.
    RaiseCaseFromFinding {
        /// Patrol id.
        patrol: RecordId,
        /// Finding id.
        finding: String,
    },
    /// Record a case event (alert, escalate, whistle, …) in the user's role.
    AddCaseEvent {
        /// Case id.
        id: RecordId,
        /// What happened.
        kind: crate::case::CaseEventKind,
        /// Free note.
        #[serde(default)]
        note: String,
    },
    /// Set one field of a record (path like `title` or `parties[0].phone`).
    SetField {
        /// Record id.
        id: RecordId,
        /// Field path.
        field: String,
        /// New value.
        value: Value,
    },
    /// Every unsettled conflict on the device.
    Conflicts,
    /// Settle a conflicted field with the chosen or typed value.
    ResolveConflict {
        /// Record id.
        id: RecordId,
        /// Field path.
        field: String,
        /// The settled value.
        value: Value,
    },
    /// A record's changes, and the record as it was at `at`.
    History {
        /// Record id.
        id: RecordId,
        /// A point in time.
        #[serde(default)]
        at: Option<DateTime<Utc>>,
    },
    /// Save an unfinished form (creates the draft record on first save).
    SaveDraft {
        /// The draft's id, after the first save.
        #[serde(default)]
        id: Option<RecordId>,
        /// Which form (`case`, …).
        form: String,
        /// The form's fields.
        data: Value,
    },
    /// The user's latest unfinished draft of a form, if any.
    GetDraft {
        /// Which form.
        form: String,
    },
    /// Mark a draft as used up (its form was submitted or discarded).
    ClearDraft {
        /// Draft id.
        id: RecordId,
    },
    /// Start a mediation (linked to the case it mediates, if any).
    CreateMediation(NewMediation),
    /// Add a session to a mediation.
    AddMediationSession {
        /// Mediation id.
        id: RecordId,
        /// When it was held.
        date: chrono::NaiveDate,
        /// Where.
        #[serde(default)]
        place: String,
        /// Who attended (names).
        #[serde(default)]
        attendees: Vec<String>,
        /// Minutes.
        #[serde(default)]
        notes: String,
    },
    /// Record how a mediation ended, its agreement text and where the rest was handed on.
    SetMediationOutcome {
        /// Mediation id.
        id: RecordId,
        /// Agreed, partial or failed.
        outcome: MediationOutcome,
        /// Agreement text (required when agreed).
        #[serde(default)]
        agreement: String,
        /// Where a partial or failed mediation goes on.
        #[serde(default)]
        handoff: Option<Channel>,
    },
    /// Schedule (or log) a leader's reception session.
    CreateReception(NewReception),
    /// Log a visit received at a reception session.
    AddVisit {
        /// Session id.
        id: RecordId,
        /// How many people came (at least one).
        persons: u32,
        /// What they raised.
        #[serde(default)]
        summary: String,
        /// The case opened or linked for it.
        #[serde(default)]
        case: Option<RecordId>,
    },
    /// Reception sessions in the user's scope, by date.
    Receptions,
    /// Register a petition (a first petition gets its 1-2-3-4 steps).
    CreatePetition(NewPetition),
    /// Mark a 1-2-3-4 step of a first petition done.
    MarkPetitionStep {
        /// Petition id.
        id: RecordId,
        /// Which method.
        method: StepMethod,
        /// Which step of it.
        seq: u8,
        /// When it was done.
        done_on: chrono::NaiveDate,
        /// What was done.
        #[serde(default)]
        note: String,
    },
    /// Streets in the user's scope (for street reception sessions).
    Streets,
    /// The supervisors' report over this device's records (works offline: the device holds
    /// what its user's scope syncs).
    Report {
        /// `YYYY-MM`, `YYYY-MM-DD` or `YYYY-MM-DD..YYYY-MM-DD`.
        period: String,
        /// Territory code within the user's scope (default: the user's scope).
        #[serde(default)]
        scope: Option<String>,
    },
    /// The records behind a figure of a report.
    ReportRecords {
        /// The figure's query.
        query: RecordQuery,
    },
}

impl ApiRequest {
    /// The operation name, for logs (never the arguments: they may hold personal data).
    pub fn op(&self) -> &'static str {
        match self {
            Self::Status => "status",
            Self::Login { .. } => "login",
            Self::Logout => "logout",
            Self::SyncNow => "sync_now",
            Self::SetLang { .. } => "set_lang",
            Self::Dashboard => "dashboard",
            Self::ListRecords { .. } => "list_records",
            Self::GetRecord { .. } => "get_record",
            Self::Grids { .. } => "grids",
            Self::CreatePatrol { .. } => "create_patrol",
            Self::SetChecklistItem { .. } => "set_checklist_item",
            Self::AddFinding { .. } => "add_finding",
            Self::SetLocation { .. } => "set_location",
            Self::AddPhoto { .. } => "add_photo",
            Self::GetPhoto { .. } => "get_photo",
            Self::FinishPatrol { .. } => "finish_patrol",
            Self::CreateCase(_) => "create_case",
            Self::RaiseCaseFromFinding { .. } => "raise_case_from_finding",
            Self::AddCaseEvent { .. } => "add_case_event",
            Self::SetField { .. } => "set_field",
            Self::Conflicts => "conflicts",
            Self::ResolveConflict { .. } => "resolve_conflict",
            Self::History { .. } => "history",
            Self::SaveDraft { .. } => "save_draft",
            Self::GetDraft { .. } => "get_draft",
            Self::ClearDraft { .. } => "clear_draft",
            Self::CreateMediation(_) => "create_mediation",
            Self::AddMediationSession { .. } => "add_mediation_session",
            Self::SetMediationOutcome { .. } => "set_mediation_outcome",
            Self::CreateReception(_) => "create_reception",
            Self::AddVisit { .. } => "add_visit",
            Self::Receptions => "receptions",
            Self::CreatePetition(_) => "create_petition",
            Self::MarkPetitionStep { .. } => "mark_petition_step",
            Self::Streets => "streets",
            Self::Report { .. } => "report",
            Self::ReportRecords { .. } => "report_records",
        }
    }
}

/// The answer to a request. Serialized as `{"type": "record", "data": …}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", content = "data", rename_all = "snake_case")]
pub enum ApiResponse {
    /// Done; nothing to return.
    Done,
    /// A record was created.
    Created {
        /// Its id.
        id: RecordId,
    },
    /// Device and sync state.
    Status(StatusView),
    /// How a sync went.
    Synced(SyncSummary),
    /// Home screen figures.
    Dashboard(DashboardView),
    /// A list of records.
    Records(Vec<RecordRow>),
    /// One record.
    Record(RecordView),
    /// Grids to pick from.
    Grids(Vec<GridView>),
    /// An attachment's bytes.
    Photo(PhotoView),
    /// Unsettled conflicts.
    Conflicts(Vec<ConflictView>),
    /// A record's history.
    History(HistoryView),
    /// A draft, if there is one.
    Draft(Option<Draft>),
    /// Reception sessions, by date.
    Receptions(Vec<ReceptionItem>),
    /// A supervisors' report.
    Report(Report),
}

/// Filters for lists; empty fields match everything.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct RecordFilter {
    /// Record kind (`case`, `patrol`, …).
    pub kind: Option<String>,
    /// Status name (`open`, `ongoing`, …).
    pub status: Option<String>,
    /// Exact grid code.
    pub grid: Option<String>,
    /// Text to find in titles, descriptions, places and names.
    pub text: Option<String>,
    /// Created on or after this date (`YYYY-MM-DD`).
    pub from: Option<chrono::NaiveDate>,
    /// Created on or before this date.
    pub to: Option<chrono::NaiveDate>,
    /// Only records with unsettled conflicts.
    pub conflicted: bool,
    /// At most this many (default 200).
    pub limit: Option<u32>,
}

/// Why the server refused a record's changes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefusalView {
    /// `out_of_scope`, `not_permitted`, `invalid`, `corrupt`, …
    pub code: String,
    /// The server's explanation.
    pub message: String,
}

impl RefusalView {
    /// The reason in `lang`, by code (the server's own message for codes not known here).
    pub fn reason(&self, lang: Lang) -> String {
        let (zh, en) = match self.code.as_str() {
            "out_of_scope" => ("超出您的辖区范围", "outside your territory"),
            "not_permitted" => ("您的角色无权进行此操作", "your role may not do this"),
            "invalid" => ("记录不符合校验规则", "the record breaks a validation rule"),
            "corrupt" => ("数据已损坏", "the data is damaged"),
            _ => return self.message.clone(),
        };
        match lang {
            Lang::ZhCn => zh.into(),
            Lang::En => en.into(),
        }
    }
}

/// A row of a list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecordRow {
    /// Record id.
    pub id: String,
    /// Kind name (`case`, `patrol`, …).
    pub kind: String,
    /// One-line title.
    pub title: String,
    /// Status name.
    pub status: String,
    /// Level handling a case.
    pub level: Option<Level>,
    /// Territory path.
    pub territory: TerritoryPath,
    /// When it was created.
    pub created_at: Option<DateTime<Utc>>,
    /// Latest change (ms since the epoch).
    pub updated_ms: i64,
    /// Fields with unsettled conflicts.
    pub conflicts: u32,
    /// Changes not yet on the server.
    pub pending: bool,
    /// The server's refusal, if it refused.
    pub refused: Option<RefusalView>,
}

/// One record, typed when this version understands it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecordView {
    /// The list row (sync state, conflicts).
    pub row: RecordRow,
    /// The record, if this version can read it.
    pub record: Option<Record>,
}

/// A grid to pick.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GridView {
    /// Grid code.
    pub code: String,
    /// Grid name.
    pub name: String,
    /// Its community's name.
    pub community: String,
}

/// An attachment's bytes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PhotoView {
    /// MIME type.
    pub media_type: String,
    /// Base64 (standard alphabet).
    pub data: String,
}

/// Progress of a running sync.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct SyncProgress {
    /// `push`, `pull`, `docs` or `attachments`.
    pub phase: String,
    /// Records pushed so far.
    pub pushed: usize,
    /// Records received so far.
    pub pulled: usize,
}

/// A record the server refused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefusedRecord {
    /// Record id.
    pub id: String,
    /// Its title.
    pub title: String,
    /// Why.
    pub refusal: RefusalView,
}

/// A message in both UI languages.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    /// Chinese.
    pub zh: String,
    /// English.
    pub en: String,
}

impl Message {
    /// A message from its two texts.
    pub fn new(zh: impl Into<String>, en: impl Into<String>) -> Self {
        Self {
            zh: zh.into(),
            en: en.into(),
        }
    }

    /// The text in `lang`.
    pub fn get(&self, lang: Lang) -> &str {
        match lang {
            Lang::ZhCn => &self.zh,
            Lang::En => &self.en,
        }
    }
}

/// Device, session and sync state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StatusView {
    /// This device's id.
    pub device_id: String,
    /// Who is signed in.
    pub user: Option<UserInfo>,
    /// The name of the signed-in user's territory unit (e.g. `小寨子社区第1网格`).
    pub scope_name: String,
    /// The server signed in to.
    pub server: Option<String>,
    /// The server the first-run screen offers.
    pub default_server: String,
    /// The UI language chosen on this device.
    pub lang: Lang,
    /// Whether the server answered the last attempt (`None` before the first).
    pub online: Option<bool>,
    /// Whether a sync is running.
    pub syncing: bool,
    /// Its progress.
    pub progress: Option<SyncProgress>,
    /// Records with changes not yet on the server.
    pub pending: u64,
    /// When the last sync finished (RFC 3339).
    pub last_sync: Option<String>,
    /// Why the last sync failed, if it did.
    pub last_error: Option<Message>,
    /// Records the server refused.
    pub refused: Vec<RefusedRecord>,
    /// Records with unsettled conflicts.
    pub conflicts: u32,
}

/// How a sync went.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct SyncSummary {
    /// Records pushed and accepted.
    pub pushed: usize,
    /// Records that received changes.
    pub pulled: usize,
    /// Records refused.
    pub refused: usize,
}

/// Home screen figures, for the signed-in user's scope.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct DashboardView {
    /// Open cases (not resolved or handed off), oldest first.
    pub open_cases: Vec<RecordRow>,
    /// Patrols started today or still going.
    pub patrols: Vec<RecordRow>,
    /// First petitions with an overdue 1-2-3-4 step.
    pub overdue_petitions: Vec<RecordRow>,
    /// Records with unsettled conflicts.
    pub conflicts: u32,
    /// Mediations not yet ended that I run or take part in (mediator, legal worker).
    pub my_mediations: Vec<RecordRow>,
    /// My reception sessions from today on (leader).
    pub my_receptions: Vec<RecordRow>,
    /// Open cases assigned to me (领导联包).
    pub my_cases: Vec<RecordRow>,
    /// Open cases escalated to the street or with the whistle blown (street officer).
    pub escalated_cases: Vec<RecordRow>,
    /// Whistled open cases my department has not reported in on yet (department).
    pub report_in_cases: Vec<RecordRow>,
}

/// One competing value of a conflicted field.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConflictChoice {
    /// The value.
    pub value: Value,
    /// Who put it there.
    pub by: UserRef,
    /// On which device.
    pub device: String,
    /// When (ms since the epoch, the editing device's clock).
    pub at_ms: i64,
}

/// A field two people set differently while offline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConflictView {
    /// Record id.
    pub id: String,
    /// Record kind.
    pub kind: String,
    /// Record title.
    pub title: String,
    /// Field path.
    pub field: String,
    /// The values, the current winner first.
    pub values: Vec<ConflictChoice>,
}

/// One change in a record's history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryItem {
    /// Change hash.
    pub change: String,
    /// Who.
    pub by: UserRef,
    /// On which device.
    pub device: String,
    /// When (ms since the epoch).
    pub at_ms: i64,
    /// Top-level fields touched.
    pub what: Vec<String>,
}

/// A record's history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HistoryView {
    /// Changes, oldest first.
    pub entries: Vec<HistoryItem>,
    /// The record as of the requested time (`null` if it did not exist yet).
    pub as_of: Option<Value>,
}

/// A new case, as the form collects it.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct NewCase {
    /// Dispute or hazard.
    pub kind: CaseKind,
    /// Category.
    pub category: Category,
    /// Risk.
    pub risk: RiskLevel,
    /// Short title.
    pub title: String,
    /// Description.
    pub description: String,
    /// Residents involved.
    pub parties: Vec<Party>,
    /// How many people are involved.
    pub persons_involved: u32,
    /// Grid code.
    pub grid: String,
    /// Where.
    pub location: Option<GeoPoint>,
    /// The patrol it was found on.
    pub from_patrol: Option<RecordId>,
}

impl NewCase {
    /// The case this form makes, with its first (`Raised`) event.
    pub fn to_case(
        &self,
        id: RecordId,
        by: UserRef,
        now: DateTime<Utc>,
        raised: CaseEvent,
    ) -> Case {
        Case {
            id,
            territory: path_of_code(&self.grid),
            created_by: by,
            created_at: now,
            kind: self.kind,
            category: self.category,
            title: self.title.trim().to_owned(),
            description: self.description.clone(),
            parties: self.parties.clone(),
            persons_involved: self.persons_involved,
            risk: self.risk,
            location: self.location,
            from_patrol: self.from_patrol,
            events: vec![raised],
        }
    }
}

/// The territory path of a code, from its digits alone (codes are hierarchical: street is
/// 9 digits, community 12, grid 15).
pub fn path_of_code(code: &str) -> TerritoryPath {
    let part = |n: usize| code.get(..n).filter(|_| code.len() >= n).unwrap_or("");
    TerritoryPath {
        street: part(9).to_owned(),
        community: part(12).to_owned(),
        grid: part(15).to_owned(),
    }
}

/// One item of a patrol kind's standard checklist: (id, zh, en).
pub type ChecklistTemplate = (&'static str, &'static str, &'static str);

/// The standard checklist of a patrol kind. Items keep their id, so the UI can show the
/// label in either language; the Chinese label is stored in the record.
pub fn checklist_template(kind: PatrolKind) -> &'static [ChecklistTemplate] {
    match kind {
        PatrolKind::Routine => &[
            (
                "disputes",
                "走访邻里，了解矛盾纠纷",
                "Visit neighbours, ask about disputes",
            ),
            (
                "safety",
                "检查消防通道与安全隐患",
                "Check fire exits and safety hazards",
            ),
            (
                "vulnerable",
                "看望独居老人与困难群众",
                "Visit elderly living alone and families in need",
            ),
            (
                "rentals",
                "核查出租房屋与流动人口",
                "Check rented housing and newcomers",
            ),
        ],
        PatrolKind::Key => &[
            (
                "key_people",
                "走访重点人员，掌握思想动态",
                "Visit key persons, note their concerns",
            ),
            (
                "petition_risk",
                "排查信访隐患苗头",
                "Look for early signs of petitions",
            ),
            (
                "follow_up",
                "回访已化解事项",
                "Follow up on resolved matters",
            ),
        ],
        PatrolKind::Special => &[
            (
                "theme_check",
                "按专项主题逐户排查",
                "Screen each household on the campaign theme",
            ),
            ("record", "登记发现的问题", "Record the problems found"),
        ],
    }
}

/// What the app's error is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// The input breaks validation rules (see `fields`).
    Invalid,
    /// No such record.
    NotFound,
    /// Not signed in.
    NotLoggedIn,
    /// Wrong user name or password, or the device was revoked.
    Unauthorized,
    /// The server cannot be reached.
    Unreachable,
    /// The app is too old for the server.
    UpdateRequired,
    /// The user's role may not do this.
    NotPermitted,
    /// The request does not make sense (unknown field, finished patrol…).
    BadRequest,
    /// Something failed on the device.
    Internal,
}

/// One field's broken rule, in both languages.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldError {
    /// Field path (`title`, `parties[0].phone`).
    pub field: String,
    /// What is wrong, without the field name or value.
    pub message: Message,
}

/// An error for the UI: a code, a message in both languages, and per-field errors. Never
/// carries a resident's personal data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub struct ApiError {
    /// What kind of error.
    pub code: ErrorCode,
    /// What went wrong.
    pub message: Message,
    /// Broken rules per field, for `Invalid`.
    #[serde(default)]
    pub fields: Vec<FieldError>,
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message.en)
    }
}

impl ApiError {
    /// An error with a message and no field errors.
    pub fn new(code: ErrorCode, zh: impl Into<String>, en: impl Into<String>) -> Self {
        Self {
            code,
            message: Message::new(zh, en),
            fields: Vec::new(),
        }
    }

    /// An `Invalid` error listing every broken rule.
    pub fn invalid(errors: &ValidationErrors) -> Self {
        Self {
            code: ErrorCode::Invalid,
            message: Message::new(
                "输入有误，未保存：请按提示修改",
                "Some input is not valid; nothing was saved",
            ),
            fields: field_errors(errors),
        }
    }
}

/// Validation errors as per-field messages in both languages.
pub fn field_errors(errors: &ValidationErrors) -> Vec<FieldError> {
    errors
        .iter()
        .map(|e| FieldError {
            field: e.field.clone(),
            message: Message::new(e.rule.message(Lang::ZhCn), e.rule.message(Lang::En)),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_and_responses_round_trip_as_tagged_json() {
        let req = ApiRequest::Login {
            server: DEFAULT_SERVER.into(),
            user: "grid".into(),
            password: "pw".into(),
        };
        let json = serde_json::to_value(&req).unwrap();
        assert_eq!(json["op"], "login");
        assert_eq!(serde_json::from_value::<ApiRequest>(json).unwrap(), req);
        let status: ApiRequest = serde_json::from_str(r#"{"op":"status"}"#).unwrap();
        assert_eq!(status, ApiRequest::Status);
        let list: ApiRequest = serde_json::from_str(r#"{"op":"list_records"}"#).unwrap();
        assert_eq!(list.op(), "list_records");
        let done = serde_json::to_value(ApiResponse::Done).unwrap();
        assert_eq!(done["type"], "done");
    }

    #[test]
    fn paths_come_from_code_digits() {
        let p = path_of_code("370214001001001");
        assert_eq!(p.street, "370214001");
        assert_eq!(p.community, "370214001001");
        assert_eq!(p.grid, "370214001001001");
        assert_eq!(path_of_code("370214001").community, "");
    }

    #[test]
    fn every_patrol_kind_has_a_checklist_with_unique_ids() {
        for kind in PatrolKind::ALL {
            let items = checklist_template(*kind);
            assert!(!items.is_empty());
            let mut ids: Vec<_> = items.iter().map(|i| i.0).collect();
            ids.sort_unstable();
            ids.dedup();
            assert_eq!(ids.len(), items.len());
        }
    }

    #[test]
    fn errors_carry_both_languages_per_field() {
        let errors = ValidationErrors(vec![crate::ValidationError {
            field: "title".into(),
            rule: crate::Rule::Required,
        }]);
        let e = ApiError::invalid(&errors);
        assert_eq!(e.fields[0].field, "title");
        assert_eq!(e.fields[0].message.get(Lang::ZhCn), "为必填项");
        assert_eq!(e.fields[0].message.get(Lang::En), "is required");
    }
}
