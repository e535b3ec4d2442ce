//! Validation with translatable errors.
//!
//! An error names the field (`visits[2].persons`) and the rule it broke, never the value:
//! values are often residents' personal data, and errors end up in logs and HTTP bodies.

use std::collections::HashSet;
use std::fmt;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::case::{Case, CaseAction, CaseEventKind, Level};
use crate::ids::RecordId;
use crate::label::{Label, Lang};
use crate::mediation::{Mediation, MediationOutcome};
use crate::party::{Party, is_valid_id_number, is_valid_phone};
use crate::patrol::{Patrol, PatrolKind};
use crate::people::{Role, UserRef};
use crate::petition::Petition;
use crate::reception::{ReceptionLevel, ReceptionSession};
use crate::record::{AttachmentRef, Draft, GeoPoint, Record};
use crate::territory::{DISTRICT_CODE, TerritoryPath, is_within};

/// Longest person name, in characters.
pub const NAME_MAX: usize = 50;
/// Longest short label (place, site, department, theme, checklist item…).
pub const SHORT_MAX: usize = 100;
/// Longest title or subject.
pub const TITLE_MAX: usize = 200;
/// Longest address.
pub const ADDRESS_MAX: usize = 200;
/// Longest attachment file name.
pub const FILE_NAME_MAX: usize = 255;
/// Longest narrative text (description, notes, agreement…).
pub const TEXT_MAX: usize = 20_000;

/// What validation may consult besides the record itself.
#[derive(Clone, Copy)]
pub struct ValidationContext<'a> {
    /// Today's date where the check runs, for "not in the future" rules.
    pub today: NaiveDate,
    /// Whether a grid code exists, when a territory registry is at hand; without one,
    /// grid codes are only checked for form.
    pub known_grid: Option<&'a dyn Fn(&str) -> bool>,
}

impl<'a> ValidationContext<'a> {
    /// A context without a territory registry.
    pub fn new(today: NaiveDate) -> Self {
        Self {
            today,
            known_grid: None,
        }
    }

    /// Also rejects grid codes for which `known_grid` returns false.
    pub fn with_known_grid(mut self, known_grid: &'a dyn Fn(&str) -> bool) -> Self {
        self.known_grid = Some(known_grid);
        self
    }
}

impl fmt::Debug for ValidationContext<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ValidationContext")
            .field("today", &self.today)
            .field("known_grid", &self.known_grid.is_some())
            .finish()
    }
}

/// Something that can check itself.
pub trait Validate {
    /// Every broken rule, or `Ok(())`.
    fn validate(&self, ctx: &ValidationContext<'_>) -> Result<(), ValidationErrors>;
}

/// A rule a field can break. Serialized with a `"code"` tag, e.g.
/// `{"code": "too_long", "max": 200}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "code", rename_all = "snake_case")]
pub enum Rule {
    /// Empty or blank but required.
    Required,
    /// Longer than `max` characters.
    TooLong {
        /// The limit, in characters.
        max: usize,
    },
    /// An end (or later date) before its start.
    EndBeforeStart,
    /// A date after today.
    InFuture,
    /// Not a UUID (v7 for record ids).
    InvalidId,
    /// An id repeated within one list.
    DuplicateId,
    /// A territory code that is malformed or not inside its parent.
    TerritoryMismatch,
    /// A grid code the territory registry does not know.
    UnknownGrid,
    /// Not a phone number.
    InvalidPhone,
    /// Not a valid 18-character resident ID number (form, birth date or checksum).
    InvalidIdNumber,
    /// A count of people that is zero.
    PersonsZero,
    /// Fewer people counted than parties named.
    FewerPersonsThanParties,
    /// No party where at least one is needed.
    MissingParty,
    /// A hand-off channel on a mediation that reached agreement.
    HandoffOnAgreed,
    /// A hand-off channel on a mediation with no outcome yet.
    HandoffWithoutOutcome,
    /// Not a SHA-256 hex digest.
    InvalidHash,
    /// Not a `type/subtype` media type.
    InvalidMediaType,
    /// Latitude outside −90…90.
    LatitudeRange,
    /// Longitude outside −180…180.
    LongitudeRange,
    /// Negative or non-finite accuracy.
    AccuracyRange,
    /// A level the action cannot go to (escalate to community, send back to district).
    LevelNotAllowed,
    /// The event's role may not record its action (see [`Role::may_take`]).
    NotPermitted {
        /// The role named on the event.
        role: Role,
        /// The action recorded.
        action: CaseAction,
    },
    /// A 1-2-3-4 step that does not exist or repeats another.
    InvalidStep,
}

impl Rule {
    /// What is wrong, in `lang`, without naming the field or its value.
    pub fn message(&self, lang: Lang) -> String {
        let (zh, en): (String, String) = match self {
            Self::Required => ("为必填项".into(), "is required".into()),
            Self::TooLong { max } => (
                format!("不能超过{max}个字符"),
                format!("must be at most {max} characters long"),
            ),
            Self::EndBeforeStart => (
                "不能早于开始时间".into(),
                "must not be before the start".into(),
            ),
            Self::InFuture => ("不能晚于今天".into(), "must not be in the future".into()),
            Self::InvalidId => (
                "不是有效的标识（UUID）".into(),
                "is not a valid id (UUID v7)".into(),
            ),
            Self::DuplicateId => (
                "与同一列表中的标识重复".into(),
                "repeats an id used earlier in the list".into(),
            ),
            Self::TerritoryMismatch => (
                "不是所属上级单位下的有效编码".into(),
                "is not a valid code inside its parent unit".into(),
            ),
            Self::UnknownGrid => (
                "网格不在辖区名录中".into(),
                "is not a grid in the territory registry".into(),
            ),
            Self::InvalidPhone => (
                "不是有效的手机或固定电话号码".into(),
                "is not a valid mobile or landline number".into(),
            ),
            Self::InvalidIdNumber => (
                "不是有效的18位居民身份证号码".into(),
                "is not a valid 18-character resident ID number".into(),
            ),
            Self::PersonsZero => (
                "人数至少为1".into(),
                "must count at least one person".into(),
            ),
            Self::FewerPersonsThanParties => (
                "人数不能少于登记的当事人数".into(),
                "must not be fewer than the parties listed".into(),
            ),
            Self::MissingParty => (
                "至少需要一名当事人".into(),
                "needs at least one party".into(),
            ),
            Self::HandoffOnAgreed => (
                "调解成功的不能移交其他渠道".into(),
                "must be empty when the mediation reached agreement".into(),
            ),
            Self::HandoffWithoutOutcome => (
                "移交前须记录调解结果（部分达成或调解不成）".into(),
                "needs a partial or failed outcome first".into(),
            ),
            Self::InvalidHash => (
                "须为64位小写十六进制的SHA-256值".into(),
                "must be a SHA-256 digest of 64 lowercase hex digits".into(),
            ),
            Self::InvalidMediaType => (
                "不是有效的媒体类型（如 image/jpeg）".into(),
                "is not a media type like image/jpeg".into(),
            ),
            Self::LatitudeRange => (
                "纬度须在-90到90之间".into(),
                "latitude must be between -90 and 90".into(),
            ),
            Self::LongitudeRange => (
                "经度须在-180到180之间".into(),
                "longitude must be between -180 and 180".into(),
            ),
            Self::AccuracyRange => (
                "精度须为非负的米数".into(),
                "accuracy must be a non-negative number of metres".into(),
            ),
            Self::LevelNotAllowed => (
                "该操作不能指向此级别".into(),
                "is a level this action cannot go to".into(),
            ),
            Self::NotPermitted { role, action } => (
                format!("{}无权记录“{}”", role.zh(), action.zh()),
                format!("a {} may not record \"{}\"", role.en(), action.en()),
            ),
            Self::InvalidStep => (
                "不是“1-2-3-4”工作法中的步骤，或与其他步骤重复".into(),
                "is not a step of the 1-2-3-4 method, or repeats one".into(),
            ),
        };
        match lang {
            Lang::ZhCn => zh,
            Lang::En => en,
        }
    }
}

/// One broken rule at one field.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ValidationError {
    /// Path of the field, e.g. `visits[2].persons` or `territory.grid`.
    pub field: String,
    /// The rule it broke.
    pub rule: Rule,
}

impl ValidationError {
    /// `"{field}: {rule}"` in `lang`.
    pub fn message(&self, lang: Lang) -> String {
        match lang {
            Lang::ZhCn => format!("{}：{}", self.field, self.rule.message(lang)),
            Lang::En => format!("{}: {}", self.field, self.rule.message(lang)),
        }
    }
}

impl fmt::Display for ValidationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message(Lang::En))
    }
}

impl std::error::Error for ValidationError {}

/// All broken rules of one record (never empty when returned as an error).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, thiserror::Error)]
#[serde(transparent)]
#[error("{}", self.messages(Lang::En).join("; "))]
pub struct ValidationErrors(pub Vec<ValidationError>);

impl ValidationErrors {
    /// Each error's message in `lang`.
    pub fn messages(&self, lang: Lang) -> Vec<String> {
        self.0.iter().map(|e| e.message(lang)).collect()
    }

    /// The errors.
    pub fn iter(&self) -> std::slice::Iter<'_, ValidationError> {
        self.0.iter()
    }

    /// Whether `field` broke `rule`.
    pub fn has(&self, field: &str, rule: Rule) -> bool {
        self.0.iter().any(|e| e.field == field && e.rule == rule)
    }

    /// Number of errors.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl<'a> IntoIterator for &'a ValidationErrors {
    type Item = &'a ValidationError;
    type IntoIter = std::slice::Iter<'a, ValidationError>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

/// How deep a record's territory path must go.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Depth {
    District,
    Street,
    Community,
    Grid,
}

impl From<Level> for Depth {
    fn from(level: Level) -> Self {
        match level {
            Level::Community => Self::Community,
            Level::Street => Self::Street,
            Level::District => Self::District,
        }
    }
}

/// Collects errors while walking a record.
struct Checker<'c, 'a> {
    ctx: &'c ValidationContext<'a>,
    errors: Vec<ValidationError>,
}

impl<'c, 'a> Checker<'c, 'a> {
    fn new(ctx: &'c ValidationContext<'a>) -> Self {
        Self {
            ctx,
            errors: Vec::new(),
        }
    }

    fn finish(self) -> Result<(), ValidationErrors> {
        if self.errors.is_empty() {
            Ok(())
        } else {
            Err(ValidationErrors(self.errors))
        }
    }

    fn push(&mut self, field: impl Into<String>, rule: Rule) {
        self.errors.push(ValidationError {
            field: field.into(),
            rule,
        });
    }

    /// Checks length; and presence if `required`.
    fn text(&mut self, field: &str, value: &str, required: bool, max: usize) {
        if required && value.trim().is_empty() {
            self.push(field, Rule::Required);
        } else if value.chars().count() > max {
            self.push(field, Rule::TooLong { max });
        }
    }

    fn record_id(&mut self, field: &str, id: &RecordId) {
        if !id.is_v7() {
            self.push(field, Rule::InvalidId);
        }
    }

    fn opt_record_id(&mut self, field: &str, id: Option<&RecordId>) {
        if let Some(id) = id {
            self.record_id(field, id);
        }
    }

    /// Item ids in a list: present and unique.
    fn item_ids<'s>(&mut self, list: &str, ids: impl IntoIterator<Item = &'s str>) {
        let mut seen = HashSet::new();
        for (i, id) in ids.into_iter().enumerate() {
            let field = format!("{list}[{i}].id");
            if id.trim().is_empty() {
                self.push(field, Rule::Required);
            } else if id.chars().count() > SHORT_MAX {
                self.push(field, Rule::TooLong { max: SHORT_MAX });
            } else if !seen.insert(id) {
                self.push(field, Rule::DuplicateId);
            }
        }
    }

    fn user(&mut self, field: &str, user: &UserRef) {
        self.text(&format!("{field}.id"), &user.id, true, SHORT_MAX);
        self.text(&format!("{field}.name"), &user.name, false, NAME_MAX);
    }

    fn header(&mut self, id: &RecordId, territory: &TerritoryPath, by: &UserRef, depth: Depth) {
        self.record_id("id", id);
        self.territory(territory, depth);
        self.user("created_by", by);
    }

    fn territory(&mut self, t: &TerritoryPath, depth: Depth) {
        let code_ok = |code: &str, len: usize, parent: &str| {
            !parent.is_empty()
                && code.len() == len
                && code.bytes().all(|b| b.is_ascii_digit())
                && is_within(code, parent)
        };
        let levels = [
            (
                "territory.street",
                &t.street,
                9,
                DISTRICT_CODE,
                Depth::Street,
            ),
            (
                "territory.community",
                &t.community,
                12,
                t.street.as_str(),
                Depth::Community,
            ),
            (
                "territory.grid",
                &t.grid,
                15,
                t.community.as_str(),
                Depth::Grid,
            ),
        ];
        for (field, code, len, parent, needed_from) in levels {
            if code.is_empty() {
                if depth >= needed_from {
                    self.push(field, Rule::Required);
                }
            } else if !code_ok(code, len, parent) {
                self.push(field, Rule::TerritoryMismatch);
            } else if needed_from == Depth::Grid
                && self.ctx.known_grid.is_some_and(|known| !known(code))
            {
                self.push(field, Rule::UnknownGrid);
            }
        }
    }

    fn not_future(&mut self, field: &str, date: NaiveDate) {
        if date > self.ctx.today {
            self.push(field, Rule::InFuture);
        }
    }

    fn parties(&mut self, list: &str, parties: &[Party]) {
        if parties.is_empty() {
            self.push(list, Rule::MissingParty);
        }
        for (i, p) in parties.iter().enumerate() {
            let f = |name: &str| format!("{list}[{i}].{name}");
            self.text(&f("name"), &p.name, true, NAME_MAX);
            if !p.phone.is_empty() && !is_valid_phone(&p.phone) {
                self.push(f("phone"), Rule::InvalidPhone);
            }
            if !p.id_number.is_empty() && !is_valid_id_number(&p.id_number) {
                self.push(f("id_number"), Rule::InvalidIdNumber);
            }
            self.text(&f("address"), &p.address, false, ADDRESS_MAX);
            if let Some(r) = &p.role_in_case {
                self.text(&f("role_in_case"), r, false, SHORT_MAX);
            }
        }
    }

    fn persons(&mut self, field: &str, persons: u32, parties: usize) {
        if persons == 0 {
            self.push(field, Rule::PersonsZero);
        } else if (persons as usize) < parties {
            self.push(field, Rule::FewerPersonsThanParties);
        }
    }

    fn location(&mut self, field: &str, geo: Option<&GeoPoint>) {
        let Some(g) = geo else { return };
        if !(g.lat.is_finite() && (-90.0..=90.0).contains(&g.lat)) {
            self.push(format!("{field}.lat"), Rule::LatitudeRange);
        }
        if !(g.lon.is_finite() && (-180.0..=180.0).contains(&g.lon)) {
            self.push(format!("{field}.lon"), Rule::LongitudeRange);
        }
        if g.accuracy_m.is_some_and(|a| !(a.is_finite() && a >= 0.0)) {
            self.push(format!("{field}.accuracy_m"), Rule::AccuracyRange);
        }
    }

    fn attachment(&mut self, field: &str, a: &AttachmentRef) {
        let hex = a.sha256.len() == 64
            && a.sha256
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
        if !hex {
            self.push(format!("{field}.sha256"), Rule::InvalidHash);
        }
        let media_field = format!("{field}.media_type");
        if a.media_type.is_empty() {
            self.push(media_field, Rule::Required);
        } else if !is_media_type(&a.media_type) {
            self.push(media_field, Rule::InvalidMediaType);
        }
        self.text(&format!("{field}.name"), &a.name, false, FILE_NAME_MAX);
    }
}

/// `type/subtype`, each a non-empty run of RFC 6838 name characters (parameters allowed).
fn is_media_type(s: &str) -> bool {
    let essence = s.split(';').next().unwrap_or_default().trim();
    let token = |t: &str| {
        !t.is_empty()
            && t.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"!#$&-^_.+".contains(&b))
    };
    matches!(essence.split_once('/'), Some((t, sub)) if token(t) && token(sub))
}

impl Validate for Patrol {
    fn validate(&self, ctx: &ValidationContext<'_>) -> Result<(), ValidationErrors> {
        let mut c = Checker::new(ctx);
        c.header(&self.id, &self.territory, &self.created_by, Depth::Grid);
        match &self.theme {
            Some(theme) => c.text("theme", theme, self.kind == PatrolKind::Special, SHORT_MAX),
            None if self.kind == PatrolKind::Special => c.push("theme", Rule::Required),
            None => {}
        }
        c.user("worker", &self.worker);
        c.not_future("started_at", self.started_at.date_naive());
        if self.ended_at.is_some_and(|end| end < self.started_at) {
            c.push("ended_at", Rule::EndBeforeStart);
        }
        for (i, place) in self.places.iter().enumerate() {
            c.text(&format!("places[{i}]"), place, true, SHORT_MAX);
        }
        c.item_ids("checklist", self.checklist.iter().map(|x| x.id.as_str()));
        for (i, item) in self.checklist.iter().enumerate() {
            c.text(
                &format!("checklist[{i}].label"),
                &item.label,
                true,
                SHORT_MAX,
            );
        }
        c.item_ids("findings", self.findings.iter().map(|x| x.id.as_str()));
        for (i, f) in self.findings.iter().enumerate() {
            c.text(&format!("findings[{i}].text"), &f.text, true, TEXT_MAX);
            c.opt_record_id(&format!("findings[{i}].case_id"), f.case_id.as_ref());
        }
        c.location("location", self.location.as_ref());
        for (i, a) in self.photos.iter().enumerate() {
            c.attachment(&format!("photos[{i}]"), a);
        }
        c.text("note", &self.note, false, TEXT_MAX);
        c.finish()
    }
}

impl Validate for Case {
    fn validate(&self, ctx: &ValidationContext<'_>) -> Result<(), ValidationErrors> {
        let mut c = Checker::new(ctx);
        c.header(&self.id, &self.territory, &self.created_by, Depth::Street);
        c.text("title", &self.title, true, TITLE_MAX);
        c.text("description", &self.description, false, TEXT_MAX);
        if self.kind == crate::case::CaseKind::Dispute || !self.parties.is_empty() {
            c.parties("parties", &self.parties);
        }
        c.persons(
            "persons_involved",
            self.persons_involved,
            self.parties.len(),
        );
        c.location("location", self.location.as_ref());
        c.opt_record_id("from_patrol", self.from_patrol.as_ref());
        let mut seen = HashSet::new();
        for (i, e) in self.events.iter().enumerate() {
            let f = |name: &str| format!("events[{i}].{name}");
            if uuid::Uuid::parse_str(&e.id).is_err() {
                c.push(f("id"), Rule::InvalidId);
            } else if !seen.insert(e.id.as_str()) {
                c.push(f("id"), Rule::DuplicateId);
            }
            c.text(&f("at"), &e.at.node, true, SHORT_MAX);
            c.user(&f("by"), &e.by);
            c.text(&f("note"), &e.note, false, TEXT_MAX);
            match &e.kind {
                CaseEventKind::Escalated {
                    to: Level::Community,
                }
                | CaseEventKind::SentBack {
                    to: Level::District,
                } => {
                    c.push(f("kind.to"), Rule::LevelNotAllowed);
                }
                CaseEventKind::DepartmentReported {
                    department,
                    took_on,
                } => {
                    c.text(&f("kind.department"), department, true, SHORT_MAX);
                    c.text(&f("kind.took_on"), took_on, true, TEXT_MAX);
                }
                CaseEventKind::LeaderAssigned { leader } => {
                    c.text(&f("kind.leader"), leader, true, NAME_MAX);
                }
                CaseEventKind::ReferredToMediation { mediation } => {
                    c.opt_record_id(&f("kind.mediation"), mediation.as_ref());
                }
                _ => {}
            }
            let action = e.kind.action();
            let level = e.kind.named_level().unwrap_or_default();
            if action != CaseAction::Unknown && !e.role.may_take(action, level) {
                c.push(
                    f("role"),
                    Rule::NotPermitted {
                        role: e.role,
                        action,
                    },
                );
            }
        }
        c.finish()
    }
}

impl Validate for Mediation {
    fn validate(&self, ctx: &ValidationContext<'_>) -> Result<(), ValidationErrors> {
        let mut c = Checker::new(ctx);
        c.header(
            &self.id,
            &self.territory,
            &self.created_by,
            self.body_level.into(),
        );
        c.opt_record_id("case", self.case.as_ref());
        c.user("mediator", &self.mediator);
        if let Some(lw) = &self.legal_worker {
            c.user("legal_worker", lw);
        }
        c.parties("parties", &self.parties);
        c.item_ids("sessions", self.sessions.iter().map(|s| s.id.as_str()));
        for (i, s) in self.sessions.iter().enumerate() {
            let f = |name: &str| format!("sessions[{i}].{name}");
            c.not_future(&f("date"), s.date);
            c.text(&f("place"), &s.place, false, SHORT_MAX);
            for (j, a) in s.attendees.iter().enumerate() {
                c.text(&format!("sessions[{i}].attendees[{j}]"), a, true, NAME_MAX);
            }
            c.text(&f("notes"), &s.notes, false, TEXT_MAX);
        }
        let agreed = self.outcome == Some(MediationOutcome::Agreed);
        c.text("agreement", &self.agreement, agreed, TEXT_MAX);
        if self.handoff.is_some() {
            match self.outcome {
                Some(o) if !o.may_hand_off() => c.push("handoff", Rule::HandoffOnAgreed),
                None => c.push("handoff", Rule::HandoffWithoutOutcome),
                Some(_) => {}
            }
        }
        let first_session = self.sessions.iter().map(|s| s.date).min();
        if let (Some(follow_up), Some(first)) = (self.follow_up, first_session)
            && follow_up < first
        {
            c.push("follow_up", Rule::EndBeforeStart);
        }
        c.finish()
    }
}

impl Validate for ReceptionSession {
    fn validate(&self, ctx: &ValidationContext<'_>) -> Result<(), ValidationErrors> {
        let mut c = Checker::new(ctx);
        let depth = match self.level {
            ReceptionLevel::District => Depth::District,
            ReceptionLevel::Street => Depth::Street,
        };
        c.header(&self.id, &self.territory, &self.created_by, depth);
        c.user("leader", &self.leader);
        c.text("site", &self.site, true, SHORT_MAX);
        // A scheduled session may lie ahead; visits to it cannot.
        if !self.visits.is_empty() {
            c.not_future("date", self.date);
        }
        c.item_ids("visits", self.visits.iter().map(|v| v.id.as_str()));
        for (i, v) in self.visits.iter().enumerate() {
            c.persons(&format!("visits[{i}].persons"), v.persons, 0);
            c.text(&format!("visits[{i}].summary"), &v.summary, false, TEXT_MAX);
            c.opt_record_id(&format!("visits[{i}].case"), v.case.as_ref());
        }
        c.finish()
    }
}

impl Validate for Petition {
    fn validate(&self, ctx: &ValidationContext<'_>) -> Result<(), ValidationErrors> {
        let mut c = Checker::new(ctx);
        c.header(&self.id, &self.territory, &self.created_by, Depth::District);
        c.not_future("received_on", self.received_on);
        c.parties("petitioners", &self.petitioners);
        c.persons("persons", self.persons, self.petitioners.len());
        c.text("subject", &self.subject, true, TITLE_MAX);
        c.text("description", &self.description, false, TEXT_MAX);
        c.opt_record_id("case", self.case.as_ref());
        if self.first && self.steps.is_empty() {
            c.push("steps", Rule::Required);
        }
        let mut seen = HashSet::new();
        for (i, s) in self.steps.iter().enumerate() {
            if !(1..=s.method.steps()).contains(&s.seq) || !seen.insert((s.method, s.seq)) {
                c.push(format!("steps[{i}]"), Rule::InvalidStep);
            }
            if s.due < self.received_on {
                c.push(format!("steps[{i}].due"), Rule::EndBeforeStart);
            }
            c.text(&format!("steps[{i}].note"), &s.note, false, TEXT_MAX);
            if let Some(done) = s.done_on {
                if done < self.received_on {
                    c.push(format!("steps[{i}].done_on"), Rule::EndBeforeStart);
                } else {
                    c.not_future(&format!("steps[{i}].done_on"), done);
                }
            }
        }
        c.finish()
    }
}

impl Validate for Draft {
    fn validate(&self, ctx: &ValidationContext<'_>) -> Result<(), ValidationErrors> {
        let mut c = Checker::new(ctx);
        c.header(&self.id, &self.territory, &self.created_by, Depth::District);
        c.text("form", &self.form, true, SHORT_MAX);
        c.finish()
    }
}

impl Validate for Record {
    fn validate(&self, ctx: &ValidationContext<'_>) -> Result<(), ValidationErrors> {
        match self {
            Self::Patrol(r) => r.validate(ctx),
            Self::Case(r) => r.validate(ctx),
            Self::Mediation(r) => r.validate(ctx),
            Self::Reception(r) => r.validate(ctx),
            Self::Petition(r) => r.validate(ctx),
            Self::Draft(r) => r.validate(ctx),
        }
    }
}
