//! The report's data: every figure group, each row with the record query behind it.
//!
//! Pure data (serde, chrono, schema types): no IO.

use crate::territory::UnitLevel;
use crate::{
    CaseStatus, Category, Channel, Label, Level, MediationOutcome, PatrolKind, PersonsBand,
    PetitionChannel, ReceptionLevel, RecordKind, StepMethod,
};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// The district's target share of cases resolved at the grassroots (community + street), in
/// percent: "over 90%" (全区90%以上…化解在基层).
pub const GRASSROOTS_TARGET_PERCENT: u64 = 90;

/// [`GRASSROOTS_TARGET_PERCENT`] as a share.
pub const GRASSROOTS_TARGET: f64 = GRASSROOTS_TARGET_PERCENT as f64 / 100.0;

/// Declares a fieldless enum with zh/en labels and an `ALL` list.
macro_rules! report_enum {
    ($(#[$m:meta])* pub enum $name:ident { $($(#[$vm:meta])* $var:ident => $zh:literal, $en:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($(#[$vm])* $var),+ }
        impl Label for $name {
            fn zh(&self) -> &'static str { match self { $(Self::$var => $zh),+ } }
            fn en(&self) -> &'static str { match self { $(Self::$var => $en),+ } }
        }
        impl $name {
            /// Every value, in display order.
            pub const ALL: &'static [Self] = &[$(Self::$var),+];
        }
    };
}

report_enum! {
    /// Age of an open case at the report's as-of date: days since it was found.
    pub enum AgeBand {
        /// 0 to 7 days.
        UpTo7 => "7天以内", "up to 7 days",
        /// 8 to 30 days.
        UpTo30 => "8–30天", "8–30 days",
        /// 31 to 90 days.
        UpTo90 => "31–90天", "31–90 days",
        /// More than 90 days.
        Over90 => "90天以上", "over 90 days",
    }
}

impl AgeBand {
    /// The band of an age in days.
    pub fn of(days: u32) -> Self {
        match days {
            0..=7 => Self::UpTo7,
            8..=30 => Self::UpTo30,
            31..=90 => Self::UpTo90,
            _ => Self::Over90,
        }
    }
}

report_enum! {
    /// What a figure counts; see `gridwork_core::report::compute` for the exact definitions.
    pub enum Measure {
        /// Cases found in the period.
        Found => "新发现", "found",
        /// Cases resolved in the period (and still resolved at its end).
        Resolved => "已化解", "resolved",
        /// Cases handed off in the period (and still handed off at its end).
        HandedOff => "已移交", "handed off",
        /// Cases open (open or in mediation) at the end of the period.
        Open => "未结", "open",
        /// Cases reopened in the period.
        Reopened => "重新办理", "reopened",
        /// Whistle cases active in the period.
        Whistle => "吹哨报到", "whistle",
        /// Mediations started in the period.
        Mediated => "人民调解", "mediated",
        /// Reception sessions held in the period.
        Held => "接访", "held",
        /// Petitions received in the period.
        Received => "收到信访", "received",
        /// First petitions with a step overdue at the as-of date.
        Overdue => "逾期初信初访", "overdue first petitions",
        /// Patrols started in the period.
        Patrolled => "排查", "patrolled",
    }
}

report_enum! {
    /// Where a mediation stands: its outcome, or still ongoing.
    pub enum MediationState {
        /// Agreement reached.
        Agreed => "调解成功", "agreement reached",
        /// Partly agreed.
        Partial => "部分达成", "partly agreed",
        /// No agreement.
        Failed => "调解不成", "failed",
        /// No outcome yet.
        Ongoing => "进行中", "ongoing",
    }
}

impl MediationState {
    /// The state of a mediation with `outcome`.
    pub fn of(outcome: Option<MediationOutcome>) -> Self {
        match outcome {
            Some(MediationOutcome::Agreed) => Self::Agreed,
            Some(MediationOutcome::Partial) => Self::Partial,
            Some(MediationOutcome::Failed) => Self::Failed,
            None => Self::Ongoing,
        }
    }
}

report_enum! {
    /// A row of the resolution-level figure.
    pub enum LevelBucket {
        /// Resolved at community level.
        Community => "社区化解", "community",
        /// Resolved at street level.
        Street => "街道化解", "street",
        /// Resolved at district level.
        District => "区级化解", "district",
        /// Community + street: the grassroots.
        Grassroots => "基层化解（社区+街道）", "grassroots (community + street)",
        /// All resolved.
        Total => "合计", "total",
    }
}

/// The filter behind a figure: the records it counts. `gridwork_core::report::matches` applies it to
/// facts with exactly the report's definitions, so a list behind a figure has as many
/// records as the figure says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordQuery {
    /// Record kind.
    pub kind: RecordKind,
    /// Territory code (district, street, community, grid or zone) the records lie within.
    pub within: String,
    /// What is counted.
    pub measure: Measure,
    /// Period start.
    pub from: NaiveDate,
    /// Period end.
    pub to: NaiveDate,
    /// As-of date for ages and overdue steps.
    pub as_of: NaiveDate,
    /// Case: resolution level (resolved) or current level (open).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub level: Option<Level>,
    /// Case: only grassroots resolutions (community or street).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub grassroots: bool,
    /// Case: category.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<Category>,
    /// Case: persons band.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub persons: Option<PersonsBand>,
    /// Open case: age band.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub age: Option<AgeBand>,
    /// Case or whistle row: the record id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Mediation: outcome, or still ongoing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<MediationState>,
    /// Mediation: hand-off channel.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub handoff: Option<Channel>,
    /// Mediation: body level.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body_level: Option<Level>,
    /// Mediation: backlog petition cases only.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub backlog: bool,
    /// Reception: level.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reception_level: Option<ReceptionLevel>,
    /// Reception: leader account id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub leader: Option<String>,
    /// Reception: month (`YYYY-MM`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub month: Option<String>,
    /// Reception: only sessions at a street-level path (`true`) or the district centre.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub district_centre: Option<bool>,
    /// Petition: channel.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel: Option<PetitionChannel>,
    /// Petition: first petitions only.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub first: bool,
    /// First petition: only those with this method overdue.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<StepMethod>,
    /// Patrol: kind.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub patrol_kind: Option<PatrolKind>,
}

impl RecordQuery {
    /// A query for `measure` on `kind` within `within` over the window.
    pub fn new(kind: RecordKind, within: &str, measure: Measure, w: &Window) -> Self {
        Self {
            kind,
            within: within.to_owned(),
            measure,
            from: w.from,
            to: w.to,
            as_of: w.as_of,
            level: None,
            grassroots: false,
            category: None,
            persons: None,
            age: None,
            id: None,
            outcome: None,
            handoff: None,
            body_level: None,
            backlog: false,
            reception_level: None,
            leader: None,
            month: None,
            district_centre: None,
            channel: None,
            first: false,
            method: None,
            patrol_kind: None,
        }
    }
}

/// The dates a report covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Window {
    /// First day of the period.
    pub from: NaiveDate,
    /// Last day of the period.
    pub to: NaiveDate,
    /// The day ages and overdue steps are measured at: the period's end, or the report's
    /// "today" if that is earlier.
    pub as_of: NaiveDate,
}

/// A count and the records behind it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Count {
    /// How many.
    pub n: u64,
    /// The records counted.
    pub query: RecordQuery,
}

/// What the report covers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReportMeta {
    /// Territory code of the scope.
    pub scope: String,
    /// Its name.
    pub scope_name: String,
    /// The period as given (`2026-11` or `2026-11-01..2026-11-15`).
    pub period: String,
    /// The dates.
    #[serde(flatten)]
    pub window: Window,
}

/// Headline case figures.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Overview {
    /// Cases found in the period.
    pub found: Count,
    /// Cases resolved in the period.
    pub resolved: Count,
    /// Cases handed off in the period.
    pub handed_off: Count,
    /// Cases open at the end of the period.
    pub open: Count,
    /// Of the open ones, those in mediation.
    pub in_mediation: u64,
    /// Cases reopened in the period (each counted once).
    pub reopened: Count,
    /// Share of resolved cases resolved at the grassroots (`None` if none resolved); shares
    /// are rounded to four decimals.
    pub grassroots_share: Option<f64>,
    /// The target share ([`GRASSROOTS_TARGET`]).
    pub target: f64,
    /// Whether the exact (unrounded) share meets the target (`None` if none resolved).
    pub meets_target: Option<bool>,
}

/// Cases resolved in the period at one level (or bucket of levels).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LevelRow {
    /// The bucket.
    pub bucket: LevelBucket,
    /// Cases resolved in the period there.
    pub resolved: u64,
    /// Share of all resolved in the period (`None` if none).
    pub share: Option<f64>,
    /// The records.
    pub query: RecordQuery,
}

/// Case figures of one street or community.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AreaRow {
    /// Street or community.
    pub unit_level: UnitLevel,
    /// Code.
    pub code: String,
    /// Name.
    pub name: String,
    /// The street's name (for a community).
    pub street_name: String,
    /// Cases found in the period.
    pub found: u64,
    /// Cases resolved in the period.
    pub resolved: u64,
    /// Of those, at the grassroots.
    pub grassroots: u64,
    /// Grassroots share (`None` if none resolved).
    pub grassroots_share: Option<f64>,
    /// Cases open at the end.
    pub open: u64,
    /// Petitions received in the period.
    pub petitions: u64,
    /// Cases found here (vary `measure` for the other columns).
    pub query: RecordQuery,
}

/// Case figures of one category or persons band.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BreakdownRow<K> {
    /// The category or band.
    pub key: K,
    /// Found in the period.
    pub found: u64,
    /// Resolved in the period.
    pub resolved: u64,
    /// Open at the end.
    pub open: u64,
    /// Cases found (vary `measure` for the other columns).
    pub query: RecordQuery,
}

/// Open cases of one age band, by current level.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OpenRow {
    /// Age band.
    pub age: AgeBand,
    /// At community level.
    pub community: u64,
    /// At street level.
    pub street: u64,
    /// At district level.
    pub district: u64,
    /// All levels.
    pub total: u64,
    /// The open cases of this band.
    pub query: RecordQuery,
}

/// A department that reported in on a whistle case.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DepartmentRow {
    /// Department.
    pub department: String,
    /// Day of its first report.
    pub reported_on: NaiveDate,
    /// Parts it took on (reports) by the period's end.
    pub parts: u64,
}

/// A whistle case (街道吹哨) with its departments (部门报到).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WhistleRow {
    /// Case id.
    pub case_id: String,
    /// Street name.
    pub street_name: String,
    /// Community name.
    pub community_name: String,
    /// Category.
    pub category: Category,
    /// Day the whistle was first blown.
    pub whistle_on: NaiveDate,
    /// Status at the end of the period.
    pub status: CaseStatus,
    /// Level at the end of the period.
    pub level: Level,
    /// Leader in charge (领导联包) at the end of the period.
    pub leader: Option<String>,
    /// Departments that reported in by the end, in order of first report.
    pub departments: Vec<DepartmentRow>,
    /// This case.
    pub query: RecordQuery,
}

/// Whistle cases.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WhistleFigures {
    /// Whistle cases active in the period.
    pub cases: Count,
    /// Of those, resolved at the end of the period.
    pub resolved: u64,
    /// Of those, open at the end.
    pub open: u64,
    /// Department reports-in (department × case) by the end.
    pub departments_reported: u64,
    /// One row per case, oldest whistle first.
    pub rows: Vec<WhistleRow>,
}

/// A group of a breakdown table (mediation, reception).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Group {
    /// Mediation outcome.
    Outcome,
    /// Mediation hand-off channel.
    Handoff,
    /// Mediation body level.
    BodyLevel,
    /// Backlog petition cases.
    Backlog,
    /// Reception by level.
    Level,
    /// Reception by leader.
    Leader,
    /// Reception by street.
    Street,
    /// Reception by month.
    Month,
    /// All.
    Total,
}

impl Label for Group {
    fn zh(&self) -> &'static str {
        match self {
            Self::Outcome => "调解结果",
            Self::Handoff => "移交渠道",
            Self::BodyLevel => "调解组织层级",
            Self::Backlog => "信访积案化解",
            Self::Level => "按层级",
            Self::Leader => "按领导",
            Self::Street => "按街道",
            Self::Month => "按月份",
            Self::Total => "合计",
        }
    }
    fn en(&self) -> &'static str {
        match self {
            Self::Outcome => "outcome",
            Self::Handoff => "hand-off channel",
            Self::BodyLevel => "mediation body level",
            Self::Backlog => "backlog petition cases",
            Self::Level => "by level",
            Self::Leader => "by leader",
            Self::Street => "by street",
            Self::Month => "by month",
            Self::Total => "total",
        }
    }
}

/// One row of the mediation figures.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MediationRow {
    /// Which breakdown.
    pub group: Group,
    /// The item, labelled (zh).
    pub item: String,
    /// The item, labelled (en).
    pub item_en: String,
    /// Mediations.
    pub count: u64,
    /// Share of all mediations in the period (`None` if none).
    pub share: Option<f64>,
    /// The mediations.
    pub query: RecordQuery,
}

/// Mediations (人民调解) started in the period.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MediationFigures {
    /// Mediations started in the period.
    pub total: Count,
    /// Of those, with an outcome.
    pub concluded: u64,
    /// Agreed among concluded (`None` if none concluded).
    pub success_rate: Option<f64>,
    /// Hand-offs to linked channels.
    pub handoffs: u64,
    /// Outcomes, hand-offs by channel, body levels, backlog cases.
    pub rows: Vec<MediationRow>,
}

/// One row of the reception figures.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReceptionRow {
    /// Which breakdown.
    pub group: Group,
    /// Key: level, leader id, street code (empty: district centre) or month.
    pub key: String,
    /// Display name (zh): level, leader name, street name or month.
    pub name: String,
    /// Sessions held (场次).
    pub sessions: u64,
    /// Cases received (起).
    pub cases: u64,
    /// Person-visits (人次).
    pub person_visits: u64,
    /// The sessions.
    pub query: RecordQuery,
}

/// Public reception (公开接访) held in the period.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReceptionFigures {
    /// Sessions held.
    pub sessions: Count,
    /// Cases received (起).
    pub cases: u64,
    /// Person-visits (人次).
    pub person_visits: u64,
    /// Sessions where the public picked the leader (点名接访).
    pub named_by_public: u64,
    /// By level, by leader, by street, by month; then the total.
    pub rows: Vec<ReceptionRow>,
}

/// Petitions of one channel.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChannelRow {
    /// Channel (`None` = all channels).
    pub channel: Option<PetitionChannel>,
    /// Petitions received in the period.
    pub petitions: u64,
    /// People who petitioned.
    pub persons: u64,
    /// First petitions among them.
    pub first: u64,
    /// The petitions.
    pub query: RecordQuery,
}

/// A step not done by its due date.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OverdueStep {
    /// Method.
    pub method: StepMethod,
    /// Step of it.
    pub seq: u8,
    /// Due date.
    pub due: NaiveDate,
}

/// A first petition with overdue steps.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OverdueRow {
    /// Petition id.
    pub petition_id: String,
    /// Street name.
    pub street_name: String,
    /// Community name.
    pub community_name: String,
    /// Channel.
    pub channel: PetitionChannel,
    /// Day received.
    pub received_on: NaiveDate,
    /// The overdue steps, in 1-2-3-4 order.
    pub overdue: Vec<OverdueStep>,
    /// Days past the earliest overdue step's due date, at the as-of date.
    pub days_overdue: u32,
    /// This petition.
    pub query: RecordQuery,
}

/// Overdue steps of one method.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MethodRow {
    /// Method.
    pub method: StepMethod,
    /// Overdue steps of it.
    pub steps: u64,
    /// First petitions with at least one such step.
    pub petitions: u64,
    /// Those petitions.
    pub query: RecordQuery,
}

/// First petitions (初信初访) and the 1-2-3-4 steps.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FirstPetitionFigures {
    /// First petitions received in the period.
    pub received: Count,
    /// First petitions received by the as-of date with a step not done by then.
    pub in_progress: u64,
    /// First petitions with at least one step overdue at the as-of date.
    pub overdue: Count,
    /// Overdue steps by method.
    pub by_method: Vec<MethodRow>,
    /// The overdue petitions, longest overdue first.
    pub rows: Vec<OverdueRow>,
}

/// A territory unit in a list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnitRow {
    /// Code.
    pub code: String,
    /// Name.
    pub name: String,
    /// Its community's name (grids).
    pub community_name: String,
    /// Its street's name.
    pub street_name: String,
}

/// Patrols of one grid.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GridRow {
    /// The grid.
    #[serde(flatten)]
    pub unit: UnitRow,
    /// Routine screenings.
    pub routine: u64,
    /// Key screenings.
    pub key: u64,
    /// Special screenings.
    pub special: u64,
    /// All.
    pub total: u64,
    /// The patrols.
    pub query: RecordQuery,
}

/// Patrols of one kind.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PatrolKindRow {
    /// Kind.
    pub kind: PatrolKind,
    /// Patrols started in the period.
    pub count: u64,
    /// Grids with at least one such patrol.
    pub grids: u64,
    /// The patrols.
    pub query: RecordQuery,
}

/// Patrol coverage (排查覆盖).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PatrolFigures {
    /// Patrols started in the period.
    pub total: Count,
    /// By kind.
    pub by_kind: Vec<PatrolKindRow>,
    /// Grids in scope.
    pub grids: u64,
    /// Grids with at least one patrol.
    pub covered: u64,
    /// Covered share (`None` if no grids).
    pub coverage: Option<f64>,
    /// Patrolled grids, in territory order.
    pub per_grid: Vec<GridRow>,
    /// Grids with no patrol in the period, in territory order.
    pub uncovered: Vec<UnitRow>,
}

/// Zero-petition communities (零上访社区).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ZeroPetitionFigures {
    /// Communities in scope.
    pub communities: u64,
    /// Those with no petition received in the period.
    pub zero: u64,
    /// Their share (`None` if no communities).
    pub share: Option<f64>,
    /// The zero-petition communities, in territory order.
    pub rows: Vec<UnitRow>,
}

/// A supervisor's report for one territory and period.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// Scope and dates.
    pub meta: ReportMeta,
    /// Headline case figures.
    pub overview: Overview,
    /// Resolution levels.
    pub levels: Vec<LevelRow>,
    /// By street and community.
    pub areas: Vec<AreaRow>,
    /// By category.
    pub categories: Vec<BreakdownRow<Category>>,
    /// By number of people involved.
    pub persons: Vec<BreakdownRow<PersonsBand>>,
    /// Open cases by age band and current level.
    pub open_cases: Vec<OpenRow>,
    /// Whistle cases.
    pub whistle: WhistleFigures,
    /// Mediations.
    pub mediation: MediationFigures,
    /// Public reception.
    pub reception: ReceptionFigures,
    /// Petitions by channel (the last row is the total).
    pub petitions: Vec<ChannelRow>,
    /// First petitions.
    pub first_petitions: FirstPetitionFigures,
    /// Patrol coverage.
    pub patrols: PatrolFigures,
    /// Zero-petition communities.
    pub zero_petition: ZeroPetitionFigures,
}

/// `n / d` rounded to four decimals (0.01 %, so JSON carries it exactly), or `None` when
/// `d` is 0. Every share in a [`Report`] is computed this way, so a screen that derives a
/// share of its own (from one report's counts or across several) rounds the same.
pub fn share(n: u64, d: u64) -> Option<f64> {
    (d > 0).then(|| (n as f64 / d as f64 * 10_000.0).round() / 10_000.0)
}
