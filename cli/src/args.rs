//! The command line, as clap derive types.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use gridwork_schema::Lang;

/// 网格通 Gridwork: a headless device and a supervisor's office tool.
///
/// Every record lives in the device folder given by `--data` (or GRIDWORK_DATA) as an
/// Automerge document in SQLite; edits made offline on several devices merge when change
/// files are exchanged (`export-changes` / `import-changes`).
#[derive(Debug, Parser)]
#[command(name = "gridwork", version, propagate_version = true)]
pub struct Cli {
    /// The device folder (created by `init`).
    #[arg(long, global = true, env = "GRIDWORK_DATA", value_name = "DIR")]
    pub data: Option<PathBuf>,
    /// Print records and lists as JSON (machine output).
    #[arg(long, global = true)]
    pub json: bool,
    /// Language of messages and labels: zh (default) or en.
    #[arg(
        long,
        global = true,
        env = "GRIDWORK_LANG",
        default_value = "zh",
        value_name = "zh|en"
    )]
    pub lang: Lang,
    #[command(subcommand)]
    pub command: Command,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create the device store (own device id and Automerge actor) and set the local user.
    ///
    /// Run again on an existing store to change the local user; the device keeps its id.
    Init(InitArgs),
    /// Patrols and screenings (排查).
    #[command(subcommand)]
    Patrol(PatrolCmd),
    /// Petition hazards and disputes (信访隐患 / 矛盾纠纷).
    #[command(subcommand)]
    Case(CaseCmd),
    /// People's mediation (人民调解).
    #[command(subcommand)]
    Mediation(MediationCmd),
    /// Public reception sessions (公开接访).
    #[command(subcommand)]
    Reception(ReceptionCmd),
    /// Petitions (信访) and the 1-2-3-4 steps of first petitions.
    #[command(subcommand)]
    Petition(PetitionCmd),
    /// Show a record: fields, derived status and level, events, open conflicts, sync state.
    Show {
        /// Record id (or a unique prefix of at least 4 characters).
        id: String,
    },
    /// List a record's changes (who, when, which fields); with --at, the record as it was.
    History {
        /// Record id (or a unique prefix).
        id: String,
        /// Show the record as of this time (RFC 3339, `YYYY-MM-DD HH:MM[:SS]` local time,
        /// or `YYYY-MM-DD` for the end of that day).
        #[arg(long, value_name = "DATETIME")]
        at: Option<String>,
    },
    /// Every open conflict: record, field, and each competing value with who and when.
    Conflicts,
    /// Settle a conflicted field by setting it (an ordinary edit).
    ResolveConflict {
        /// Record id (or a unique prefix).
        id: String,
        /// Field path, as `conflicts` prints it (e.g. `title`, `parties[0].phone`).
        field: String,
        /// The value: JSON if it parses as JSON, else taken as a string.
        value: String,
    },
    /// Write every record to a change file (JSON), to carry to another device.
    ExportChanges {
        /// The file to write.
        file: PathBuf,
    },
    /// Merge a change file from another device, exactly as sync would.
    ImportChanges {
        /// The file to read.
        file: PathBuf,
    },
    /// List records of any kind.
    List(ListArgs),
    /// Sign in to a sync server, registering this device; the server's account becomes the
    /// local user.
    Login {
        /// Server base URL, e.g. http://127.0.0.1:8787.
        #[arg(long, value_name = "URL")]
        server: String,
        /// Login name.
        #[arg(long, value_name = "LOGIN")]
        user: String,
        /// Password (else GRIDWORK_PASSWORD, else read from standard input).
        #[arg(
            long,
            env = "GRIDWORK_PASSWORD",
            hide_env_values = true,
            value_name = "P"
        )]
        password: Option<String>,
    },
    /// Push this device's changes to the server and pull everyone else's.
    Sync,
    /// This device's sync state: user, server, pending changes, last sync, refusals.
    Status,
    /// Supervisors' figures for a period (汇总报表): on screen, as JSON, as a workbook or CSV.
    Report(ReportArgs),
    /// Test aid: write records in a loop (used by the crash-safety test).
    #[command(hide = true)]
    StressWrite {
        /// How many writes.
        #[arg(long, default_value_t = 100)]
        count: u32,
        /// The grid to write into.
        #[arg(long, default_value = "370214001001001")]
        grid: String,
    },
}

/// `init` options.
#[derive(Debug, Args)]
pub struct InitArgs {
    /// The local user's account id (edits are authored as this user).
    #[arg(long, value_name = "ID")]
    pub user: Option<String>,
    /// The local user's display name.
    #[arg(long, value_name = "NAME")]
    pub name: Option<String>,
    /// The local user's role: grid_worker, legal_worker, mediator, street_officer,
    /// department, leader, supervisor, admin (or the Chinese name).
    #[arg(long, value_name = "ROLE")]
    pub role: Option<String>,
    /// The territory code the local user works in (district, street, community or grid).
    #[arg(long, value_name = "CODE")]
    pub scope: Option<String>,
    /// The department, for department liaisons.
    #[arg(long, value_name = "NAME")]
    pub department: Option<String>,
}

/// Filters shared by the list commands.
#[derive(Debug, Args, Default)]
pub struct ListArgs {
    /// Record kind: patrol, case, mediation, reception, petition, draft.
    #[arg(long, value_name = "KIND")]
    pub kind: Option<String>,
    /// Status (open, in_mediation, resolved, handed_off, ongoing, finished, …).
    #[arg(long, value_name = "STATUS")]
    pub status: Option<String>,
    /// Exact grid code.
    #[arg(long, value_name = "CODE")]
    pub grid: Option<String>,
    /// Any territory code the records must lie within.
    #[arg(long, value_name = "CODE")]
    pub within: Option<String>,
    /// Text to search in titles, descriptions, places and names.
    #[arg(long, value_name = "TEXT")]
    pub text: Option<String>,
    /// Only records with open conflicts.
    #[arg(long)]
    pub conflicted: bool,
    /// At most this many rows.
    #[arg(long, default_value_t = 200)]
    pub limit: u32,
}

/// `patrol` subcommands.
#[derive(Debug, Subcommand)]
pub enum PatrolCmd {
    /// Start a patrol of a grid, by the local user.
    New {
        /// routine (定期排查), key (重点排查) or special (专项排查).
        #[arg(long, value_name = "routine|key|special")]
        kind: String,
        /// The grid code.
        #[arg(long, value_name = "CODE")]
        grid: String,
        /// The campaign theme (required for special screenings).
        #[arg(long, value_name = "T")]
        theme: Option<String>,
        /// A note.
        #[arg(long, value_name = "TEXT")]
        note: Option<String>,
        /// A place visited (repeat for several).
        #[arg(long = "place", value_name = "P")]
        places: Vec<String>,
    },
    /// Finish a patrol (sets its end time), optionally with findings.
    Finish {
        /// Patrol id.
        id: String,
        /// A finding (repeat for several).
        #[arg(long = "finding", value_name = "TEXT")]
        findings: Vec<String>,
    },
    /// Add a finding to a patrol.
    Finding {
        /// Patrol id.
        id: String,
        /// What was found.
        text: String,
    },
    /// Attach a photo to a patrol (stored once by SHA-256).
    Photo {
        /// Patrol id.
        id: String,
        /// The image file.
        file: PathBuf,
    },
    /// List patrols.
    List {
        /// Status: ongoing or finished.
        #[arg(long)]
        status: Option<String>,
        /// Grid code.
        #[arg(long, value_name = "CODE")]
        grid: Option<String>,
        /// Text to search.
        #[arg(long)]
        text: Option<String>,
    },
}

/// `case` subcommands.
#[derive(Debug, Subcommand)]
pub enum CaseCmd {
    /// Register a case (with a `raised` event by the local user).
    New {
        /// dispute (矛盾纠纷) or hazard (信访隐患).
        #[arg(long, value_name = "dispute|hazard")]
        kind: String,
        /// Grid code (or community/street code); defaults to the patrol's grid with
        /// --from-patrol.
        #[arg(long, value_name = "CODE")]
        grid: Option<String>,
        /// Short title.
        #[arg(long, value_name = "T")]
        title: String,
        /// Narrative description.
        #[arg(long, value_name = "D")]
        description: Option<String>,
        /// Category: neighbourhood, family_marriage, land_housing, demolition_relocation,
        /// labour_wages, property_management, environment, traffic, consumer_contract, other.
        #[arg(long, value_name = "C")]
        category: Option<String>,
        /// Risk: low, medium or high.
        #[arg(long, value_name = "low|medium|high")]
        risk: Option<String>,
        /// How many people are involved (default: the number of parties, at least 1).
        #[arg(long, value_name = "N")]
        persons: Option<u32>,
        /// A party as NAME:PHONE (phone may be empty; repeat for several).
        #[arg(long = "party", value_name = "NAME:PHONE")]
        parties: Vec<String>,
        /// The patrol that found it; links the patrol's unlinked finding.
        #[arg(long, value_name = "ID")]
        from_patrol: Option<String>,
        /// Which finding of the patrol (1-based number or finding id), when it has several.
        #[arg(long, value_name = "N|ID", requires = "from_patrol")]
        finding: Option<String>,
        /// A note on the `raised` event.
        #[arg(long, value_name = "TEXT")]
        note: Option<String>,
    },
    /// Set a field: title, description, category, risk, persons_involved, kind, location
    /// (LAT,LON).
    Set {
        /// Case id.
        id: String,
        /// The field.
        field: String,
        /// The new value.
        value: String,
    },
    /// Record an event, in the local user's role.
    ///
    /// KIND: raised, alerted, escalated (--to), sent_back (--to), whistle_blown,
    /// department_reported (--department, --took-on), leader_assigned (--leader),
    /// referred_to_mediation [--mediation], resolved [--to, default the current level],
    /// handed_off (--channel), follow_up_visit, reopened.
    Event {
        /// Case id.
        id: String,
        /// The event kind.
        kind: String,
        /// The level (escalated, sent_back, resolved): community, street or district.
        #[arg(long, value_name = "LEVEL")]
        to: Option<String>,
        /// The department reporting in.
        #[arg(long, value_name = "NAME")]
        department: Option<String>,
        /// What the department took on.
        #[arg(long, value_name = "TEXT")]
        took_on: Option<String>,
        /// The leader taking the case on.
        #[arg(long, value_name = "NAME")]
        leader: Option<String>,
        /// The channel handed to: petition, ruling, arbitration, litigation.
        #[arg(long, value_name = "C")]
        channel: Option<String>,
        /// The mediation record referred to.
        #[arg(long, value_name = "ID")]
        mediation: Option<String>,
        /// A note.
        #[arg(long, value_name = "TEXT")]
        note: Option<String>,
    },
    /// List cases.
    List {
        /// Status: open, in_mediation, resolved, handed_off.
        #[arg(long)]
        status: Option<String>,
        /// Grid code.
        #[arg(long, value_name = "CODE")]
        grid: Option<String>,
        /// Text to search.
        #[arg(long)]
        text: Option<String>,
    },
}

/// `mediation` subcommands.
#[derive(Debug, Subcommand)]
pub enum MediationCmd {
    /// Open a mediation of a case (its parties are taken from the case).
    New {
        /// The case mediated.
        #[arg(long, value_name = "ID")]
        case: String,
        /// The mediator's name (or ID:NAME).
        #[arg(long, value_name = "NAME")]
        mediator: String,
        /// The community legal worker's name (or ID:NAME).
        #[arg(long, value_name = "NAME")]
        legal_worker: Option<String>,
        /// Level of the mediation body: community (default), street or district.
        #[arg(long, value_name = "community|street|district")]
        level: Option<String>,
        /// Works on a backlog petition case (信访积案).
        #[arg(long)]
        backlog: bool,
        /// A further party as NAME:PHONE, besides the case's (repeat for several).
        #[arg(long = "party", value_name = "NAME:PHONE")]
        parties: Vec<String>,
    },
    /// Record a session.
    Session {
        /// Mediation id.
        id: String,
        /// The day (YYYY-MM-DD or `today`).
        #[arg(long, value_name = "D")]
        date: String,
        /// Where.
        #[arg(long, value_name = "P")]
        place: String,
        /// Who attended (repeat for several).
        #[arg(long = "attendee", value_name = "A")]
        attendees: Vec<String>,
        /// Minutes.
        #[arg(long, value_name = "N")]
        notes: Option<String>,
    },
    /// Record the outcome.
    Outcome {
        /// Mediation id.
        id: String,
        /// agreed, partial or failed.
        outcome: String,
        /// Where a partial or failed mediation goes on: petition, ruling, arbitration,
        /// litigation.
        #[arg(long, value_name = "C")]
        handoff: Option<String>,
        /// The agreement text (required when agreed).
        #[arg(long, value_name = "TEXT")]
        agreement: Option<String>,
    },
}

/// `reception` subcommands.
#[derive(Debug, Subcommand)]
pub enum ReceptionCmd {
    /// Record a reception session of a leader.
    New {
        /// The leader's name (or ID:NAME).
        #[arg(long, value_name = "NAME")]
        leader: String,
        /// district or street.
        #[arg(long, value_name = "district|street")]
        level: String,
        /// The reception site.
        #[arg(long, value_name = "S")]
        site: String,
        /// The day (YYYY-MM-DD or `today`).
        #[arg(long, value_name = "D")]
        date: String,
        /// The street code (street sessions; default: the local user's street).
        #[arg(long, value_name = "CODE")]
        street: Option<String>,
        /// The public picked this leader by name plate (点名接访).
        #[arg(long)]
        named: bool,
    },
    /// Record a visit received at a session.
    Visit {
        /// Session id.
        id: String,
        /// How many people came (at least 1).
        #[arg(long, value_name = "N")]
        persons: u32,
        /// What they raised.
        #[arg(long, value_name = "S")]
        summary: Option<String>,
        /// The case opened or linked for it.
        #[arg(long, value_name = "ID")]
        case: Option<String>,
    },
}

/// `petition` subcommands.
#[derive(Debug, Subcommand)]
pub enum PetitionCmd {
    /// Register a petition.
    New {
        /// online (网上), letter (信上), visit (访上) or app (爱城阳APP).
        #[arg(long, value_name = "online|letter|visit|app")]
        channel: String,
        /// Grid (or community) code of the matter.
        #[arg(long, value_name = "CODE", conflicts_with = "street")]
        grid: Option<String>,
        /// Street code of the matter.
        #[arg(long, value_name = "CODE")]
        street: Option<String>,
        /// Short subject.
        #[arg(long, value_name = "S")]
        subject: String,
        /// Narrative description.
        #[arg(long, value_name = "D")]
        description: Option<String>,
        /// A first petition (初信初访): tracked with the ten 1-2-3-4 steps.
        #[arg(long)]
        first: bool,
        /// How many people petitioned (default: the number of petitioners, at least 1).
        #[arg(long, value_name = "N")]
        persons: Option<u32>,
        /// Date received (YYYY-MM-DD or `today`, the default).
        #[arg(long, value_name = "D")]
        received: Option<String>,
        /// A petitioner as NAME:PHONE (repeat for several; at least one is required).
        #[arg(long = "party", value_name = "NAME:PHONE")]
        parties: Vec<String>,
        /// The case opened for it.
        #[arg(long, value_name = "ID")]
        case: Option<String>,
    },
    /// Mark a 1-2-3-4 step done.
    Step {
        /// Petition id.
        id: String,
        /// speed_up, interview, supervision or concentration (or 一提速, 两约谈, …).
        method: String,
        /// Which step of the method (1…4).
        seq: u8,
        /// The day it was done (YYYY-MM-DD or `today`).
        #[arg(long, value_name = "DATE")]
        done: String,
    },
}

/// `report`.
#[derive(Debug, clap::Args)]
pub struct ReportArgs {
    /// The period: a month `2026-11`, a day `2026-11-05`, or a range `2026-11-01..2026-11-15`.
    #[arg(long)]
    pub period: String,
    /// Territory code to report on (district, street, community, grid, or a zone like Z01);
    /// default the whole district.
    #[arg(long)]
    pub scope: Option<String>,
    /// The "as of" date for ages and overdue steps, if not today (YYYY-MM-DD).
    #[arg(long, value_name = "DATE")]
    pub today: Option<String>,
    /// Write the workbook (Chinese sheets) to this file.
    #[arg(long, value_name = "FILE")]
    pub xlsx: Option<PathBuf>,
    /// Write one CSV file per figure group (UTF-8 with BOM) into this folder.
    #[arg(long, value_name = "DIR")]
    pub csv: Option<PathBuf>,
}
