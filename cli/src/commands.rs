//! The commands: build or edit records through `gridwork_core::store`, then print.

use std::fs;
use std::path::Path;
use std::str::FromStr as _;

use anyhow::{Context as _, Result, bail};
use chrono::NaiveDate;
use gridwork_core::doc::FieldPath;
use gridwork_core::store::{ChangeFile, DB_FILE, ListFilter, Store};
use gridwork_core::summary;
use gridwork_schema::territory::{DISTRICT_CODE, Territory, demo};
use gridwork_schema::{
    Case, CaseEvent, CaseEventKind, CaseKind, Category, Channel, Finding, Level, Mediation,
    MediationOutcome, MediationSession, Patrol, PatrolKind, Petition, PetitionChannel,
    ReceptionLevel, ReceptionSession, Record, RecordId, RecordKind, RiskLevel, Role, StepMethod,
    TerritoryPath, User, Visit,
};
use serde_json::json;

use crate::args::{
    CaseCmd, Cli, Command, InitArgs, ListArgs, MediationCmd, PatrolCmd, PetitionCmd, ReceptionCmd,
};
use crate::ctx::{
    Ctx, LOCAL_USER_KEY, as_case, as_mediation, as_patrol, as_petition, as_reception, default_user,
    tr, usage,
};
use crate::output::{self, Shown, out};
use crate::{parse, sync_cmd};

/// Runs one command line.
pub fn run(cli: Cli) -> Result<()> {
    let Cli {
        data,
        json,
        command,
        ..
    } = cli;
    let dir = data.ok_or_else(|| {
        usage(
            "缺少 --data DIR（设备文件夹；也可设环境变量 GRIDWORK_DATA）",
            "missing --data DIR (the device folder; or set GRIDWORK_DATA)",
        )
    })?;
    let command = match command {
        Command::Init(args) => return init(&dir, args, json),
        other => other,
    };
    let mut ctx = Ctx::open(&dir, json)?;
    match command {
        Command::Init(_) => Ok(()),
        Command::Patrol(cmd) => patrol(&mut ctx, cmd),
        Command::Case(cmd) => case(&mut ctx, cmd),
        Command::Mediation(cmd) => mediation(&mut ctx, cmd),
        Command::Reception(cmd) => reception(&mut ctx, cmd),
        Command::Petition(cmd) => petition(&mut ctx, cmd),
        Command::Show { id } => show(&mut ctx, &id),
        Command::History { id, at } => history(&mut ctx, &id, at.as_deref()),
        Command::Conflicts => {
            let all = ctx.store.all_conflicts()?;
            output::conflicts(&all, ctx.json)
        }
        Command::ResolveConflict { id, field, value } => {
            resolve_conflict(&mut ctx, &id, &field, &value)
        }
        Command::ExportChanges { file } => export_changes(&mut ctx, &file),
        Command::ImportChanges { file } => import_changes(&mut ctx, &file),
        Command::List(args) => list(&ctx, args),
        Command::StressWrite { count, grid } => stress_write(&mut ctx, count, &grid),
        Command::Report(args) => report(&ctx, &args),
        Command::Login {
            server,
            user,
            password,
        } => sync_cmd::login(ctx.store, &server, &user, password, ctx.json),
        Command::Sync => sync_cmd::sync_now(ctx.store, ctx.json),
        Command::Status => sync_cmd::status(&ctx.store, ctx.json),
    }
}

// init
// ---------------------------------------------------------------------------------------------

fn init(dir: &Path, a: InitArgs, as_json: bool) -> Result<()> {
    let existed = dir.join(DB_FILE).exists();
    let role = a
        .role
        .as_deref()
        .map(|r| parse::labeled(r, Role::ALL, &[], ("角色", "role")))
        .transpose()?;
    if let Some(scope) = &a.scope
        && scope != DISTRICT_CODE
        && !Territory::chengyang().contains(scope)
    {
        return Err(usage(
            &format!("--scope {scope} 不是辖区名录中的编码"),
            &format!("--scope {scope} is not a code in the territory registry"),
        ));
    }
    let store = Store::init(dir).with_context(|| {
        tr(
            &format!("无法在 {} 创建设备数据库", dir.display()),
            &format!("cannot create a device store in {}", dir.display()),
        )
    })?;
    let mut user: User = match store.meta(LOCAL_USER_KEY)? {
        Some(s) => serde_json::from_str(&s).unwrap_or_else(|_| default_user()),
        None => default_user(),
    };
    if let Some(id) = &a.user {
        // A demo account's login brings its name, role and scope along.
        match demo::ACCOUNTS.iter().find(|d| d.login == id) {
            Some(d) => {
                user = User {
                    id: d.login.into(),
                    name: d.display_name.into(),
                    role: serde_json::from_value(json!(d.role)).unwrap_or(user.role),
                    scope: d.scope.into(),
                    department: d.department.map(str::to_owned),
                };
            }
            None => {
                user.id.clone_from(id);
                user.name.clone_from(id);
            }
        }
    }
    if let Some(name) = a.name {
        user.name = name;
    }
    if let Some(role) = role {
        user.role = role;
    }
    if let Some(scope) = a.scope {
        user.scope = scope;
    }
    if let Some(d) = a.department {
        user.department = Some(d);
    }
    store.set_meta(LOCAL_USER_KEY, Some(&serde_json::to_string(&user)?))?;
    let identity = store.identity();
    let actor: String = identity.actor.iter().map(|b| format!("{b:02x}")).collect();
    if as_json {
        return output::json(&json!({
            "device_id": identity.device_id,
            "actor": actor,
            "created": !existed,
            "user": user,
        }));
    }
    out!("{}", identity.device_id);
    let what = if existed {
        tr(
            "设备已存在，已更新本机用户",
            "device exists; local user updated",
        )
    } else {
        tr("已创建设备", "device created")
    };
    use gridwork_schema::Label as _;
    eprintln!(
        "{what}: {} {} ({}, {}) {}",
        tr("用户", "user"),
        user.name,
        user.id,
        user.role.label(crate::ctx::lang()),
        user.scope
    );
    Ok(())
}

fn create(ctx: &mut Ctx, record: &Record) -> Result<()> {
    let author = ctx.author();
    ctx.store.create(record, &author)?;
    let row = ctx.store.row(&record.id().to_string())?;
    output::saved(&row, ctx.json)
}

fn new_item_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

/// Today by the store's clock: the same day validation's "not in the future" checks use.
fn today(ctx: &Ctx) -> NaiveDate {
    ctx.store.now().date_naive()
}

fn date(ctx: &Ctx, s: &str, what: &str) -> Result<NaiveDate> {
    let t = s.trim();
    if t.eq_ignore_ascii_case("today") || t == "今天" {
        return Ok(today(ctx));
    }
    parse::date(s, what)
}

fn record_ref(ctx: &Ctx, given: &str, kind: RecordKind) -> Result<RecordId> {
    let id = match ctx.resolve_kind(given, kind) {
        Ok(id) => id,
        // A record this device has not received yet may still be named by its full id.
        Err(e) => match given.trim().parse::<RecordId>() {
            Ok(id) if ctx.store.row(given.trim()).is_err() => return Ok(id),
            _ => return Err(e),
        },
    };
    id.parse().map_err(|_| {
        usage(
            &format!("{id} 不是有效的记录编号"),
            &format!("{id} is not a valid record id"),
        )
    })
}

// patrol
// ---------------------------------------------------------------------------------------------

fn patrol(ctx: &mut Ctx, cmd: PatrolCmd) -> Result<()> {
    match cmd {
        PatrolCmd::New {
            kind,
            grid,
            theme,
            note,
            places,
        } => {
            let kind = parse::labeled(&kind, PatrolKind::ALL, &[], ("排查类型", "patrol kind"))?;
            let now = ctx.store.now();
            let me = ctx.user_ref();
            let p = Patrol {
                id: RecordId::new_v7(),
                territory: parse::territory(&grid),
                created_by: me.clone(),
                created_at: now,
                kind,
                theme,
                worker: me,
                started_at: now,
                places,
                note: note.unwrap_or_default(),
                ..Patrol::default()
            };
            create(ctx, &Record::Patrol(p))
        }
        PatrolCmd::Finish { id, findings } => {
            let id = ctx.resolve_kind(&id, RecordKind::Patrol)?;
            let now = ctx.store.now();
            let row = ctx.edit(&id, as_patrol, |p| {
                if p.ended_at.is_some() {
                    bail!(tr("这次排查已经结束", "this patrol is already finished"));
                }
                p.ended_at = Some(now.max(p.started_at));
                p.findings.extend(findings.into_iter().map(|text| Finding {
                    id: new_item_id(),
                    text,
                    case_id: None,
                }));
                Ok(())
            })?;
            output::saved(&row, ctx.json)
        }
        PatrolCmd::Finding { id, text } => {
            let id = ctx.resolve_kind(&id, RecordKind::Patrol)?;
            let row = ctx.edit(&id, as_patrol, |p| {
                p.findings.push(Finding {
                    id: new_item_id(),
                    text,
                    case_id: None,
                });
                Ok(())
            })?;
            output::saved(&row, ctx.json)
        }
        PatrolCmd::Photo { id, file } => {
            let id = ctx.resolve_kind(&id, RecordKind::Patrol)?;
            let bytes = fs::read(&file).with_context(|| {
                tr(
                    &format!("无法读取文件 {}", file.display()),
                    &format!("cannot read {}", file.display()),
                )
            })?;
            let name = file
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let attachment = ctx.store.put_attachment(&bytes, media_type(&file), &name)?;
            let row = ctx.edit(&id, as_patrol, |p| {
                if !p.photos.iter().any(|a| a.sha256 == attachment.sha256) {
                    p.photos.push(attachment);
                }
                Ok(())
            })?;
            output::saved(&row, ctx.json)
        }
        PatrolCmd::List { status, grid, text } => list(
            ctx,
            ListArgs {
                kind: Some("patrol".into()),
                status,
                grid,
                text,
                limit: 200,
                ..ListArgs::default()
            },
        ),
    }
}

fn media_type(file: &Path) -> &'static str {
    let ext = file
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    match ext.as_str() {
        "jpg" | "jpeg" => "image/jpeg",
        "png" => "image/png",
        "webp" => "image/webp",
        "heic" => "image/heic",
        "gif" => "image/gif",
        "pdf" => "application/pdf",
        _ => "application/octet-stream",
    }
}

// case
// ---------------------------------------------------------------------------------------------

fn level(s: &str) -> Result<Level> {
    parse::labeled(s, Level::ALL, &[], ("级别", "level"))
}

fn channel(s: &str) -> Result<Channel> {
    parse::labeled(
        s,
        Channel::ALL,
        &[
            ("ruling", Channel::AdministrativeRuling),
            ("administrative", Channel::AdministrativeRuling),
        ],
        ("渠道", "channel"),
    )
}

fn case(ctx: &mut Ctx, cmd: CaseCmd) -> Result<()> {
    match cmd {
        CaseCmd::New {
            kind,
            grid,
            title,
            description,
            category,
            risk,
            persons,
            parties,
            from_patrol,
            finding,
            note,
        } => {
            let kind = parse::labeled(&kind, CaseKind::ALL, &[], ("事项类型", "case kind"))?;
            let category = category
                .map(|c| parse::labeled(&c, Category::ALL, &[], ("类别", "category")))
                .transpose()?
                .unwrap_or_default();
            let risk = risk
                .map(|r| {
                    parse::labeled(
                        &r,
                        RiskLevel::ALL,
                        &[
                            ("low", RiskLevel::Low),
                            ("medium", RiskLevel::Medium),
                            ("high", RiskLevel::High),
                        ],
                        ("风险等级", "risk"),
                    )
                })
                .transpose()?
                .unwrap_or_default();
            let parties = parties
                .iter()
                .map(|p| parse::party(p))
                .collect::<Result<Vec<_>>>()?;
            // The patrol and its finding are checked before anything is written.
            let patrol = match &from_patrol {
                Some(p) => {
                    let pid = ctx.resolve_kind(p, RecordKind::Patrol)?;
                    match ctx.store.get(&pid)? {
                        Record::Patrol(p) => Some(p),
                        _ => None,
                    }
                }
                None => None,
            };
            let finding_id = match &patrol {
                Some(p) => pick_finding(p, finding.as_deref())?,
                None => None,
            };
            let territory = match (&grid, &patrol) {
                (Some(g), _) => parse::territory(g),
                (None, Some(p)) => p.territory.clone(),
                (None, None) => {
                    return Err(usage(
                        "需要 --grid CODE（或 --from-patrol ID）",
                        "--grid CODE is required (or --from-patrol ID)",
                    ));
                }
            };
            let persons =
                persons.unwrap_or_else(|| u32::try_from(parties.len()).unwrap_or(u32::MAX).max(1));
            let hlc = ctx.store.next_hlc()?;
            let me = ctx.user_ref();
            let c = Case {
                id: RecordId::new_v7(),
                territory,
                created_by: me.clone(),
                created_at: ctx.store.now(),
                kind,
                category,
                title,
                description: description.unwrap_or_default(),
                parties,
                persons_involved: persons,
                risk,
                location: None,
                from_patrol: patrol.as_ref().map(|p| p.id),
                events: vec![CaseEvent {
                    id: new_item_id(),
                    at: hlc,
                    by: me,
                    role: ctx.user.role,
                    kind: CaseEventKind::Raised,
                    note: note.unwrap_or_default(),
                }],
            };
            let case_id = c.id;
            let author = ctx.author();
            ctx.store.create(&Record::Case(c), &author)?;
            if let (Some(p), Some(fid)) = (&patrol, finding_id) {
                ctx.edit(&p.id.to_string(), as_patrol, |p| {
                    if let Some(f) = p.findings.iter_mut().find(|f| f.id == fid) {
                        f.case_id = Some(case_id);
                    }
                    Ok(())
                })?;
            }
            let row = ctx.store.row(&case_id.to_string())?;
            output::saved(&row, ctx.json)
        }
        CaseCmd::Set { id, field, value } => {
            let id = ctx.resolve_kind(&id, RecordKind::Case)?;
            let setter = case_setter(&field, &value)?;
            let row = ctx.edit(&id, as_case, |c| {
                setter(c);
                Ok(())
            })?;
            output::saved(&row, ctx.json)
        }
        CaseCmd::Event {
            id,
            kind,
            to,
            department,
            took_on,
            leader,
            channel: ch,
            mediation,
            note,
        } => {
            let id = ctx.resolve_kind(&id, RecordKind::Case)?;
            let current = match ctx.store.get(&id)? {
                Record::Case(c) => c.state().level,
                _ => Level::default(),
            };
            let required = |v: Option<String>, flag: &str| {
                v.ok_or_else(|| {
                    usage(
                        &format!("事件 {kind} 需要 {flag}"),
                        &format!("event {kind} needs {flag}"),
                    )
                })
            };
            let normalized = kind.trim().to_lowercase().replace(['-', ' '], "_");
            let event_kind = match normalized.as_str() {
                "raised" | "raise" | "登记" => CaseEventKind::Raised,
                "alerted" | "alert" | "网格预警" => CaseEventKind::Alerted,
                "escalated" | "escalate" | "上报" => CaseEventKind::Escalated {
                    to: level(&required(to, "--to LEVEL")?)?,
                },
                "sent_back" | "send_back" | "退回" => CaseEventKind::SentBack {
                    to: level(&required(to, "--to LEVEL")?)?,
                },
                "whistle_blown" | "blow_whistle" | "whistle" | "街道吹哨" => {
                    CaseEventKind::WhistleBlown
                }
                "department_reported" | "report_in" | "部门报到" => {
                    CaseEventKind::DepartmentReported {
                        department: required(
                            department.or_else(|| ctx.user.department.clone()),
                            "--department NAME",
                        )?,
                        took_on: required(took_on, "--took-on TEXT")?,
                    }
                }
                "leader_assigned" | "assign_leader" | "领导联包" => {
                    CaseEventKind::LeaderAssigned {
                        leader: required(leader, "--leader NAME")?,
                    }
                }
                "referred_to_mediation" | "refer_to_mediation" | "转人民调解" => {
                    CaseEventKind::ReferredToMediation {
                        mediation: mediation
                            .map(|m| record_ref(ctx, &m, RecordKind::Mediation))
                            .transpose()?,
                    }
                }
                "resolved" | "resolve" | "化解" => CaseEventKind::Resolved {
                    at: to.as_deref().map(level).transpose()?.unwrap_or(current),
                },
                "handed_off" | "hand_off" | "移交" => CaseEventKind::HandedOff {
                    channel: channel(&required(ch, "--channel C")?)?,
                },
                "follow_up_visit" | "follow_up" | "回访" => CaseEventKind::FollowUpVisit,
                "reopened" | "reopen" | "重新办理" => CaseEventKind::Reopened,
                _ => {
                    return Err(usage(
                        &format!(
                            "未知的事件类型“{kind}”；可选：raised, alerted, escalated, sent_back, \
                             whistle_blown, department_reported, leader_assigned, \
                             referred_to_mediation, resolved, handed_off, follow_up_visit, reopened"
                        ),
                        &format!(
                            "unknown event kind {kind:?}; expected raised, alerted, escalated, \
                             sent_back, whistle_blown, department_reported, leader_assigned, \
                             referred_to_mediation, resolved, handed_off, follow_up_visit, reopened"
                        ),
                    ));
                }
            };
            let event = CaseEvent {
                id: new_item_id(),
                at: ctx.store.next_hlc()?,
                by: ctx.user_ref(),
                role: ctx.user.role,
                kind: event_kind,
                note: note.unwrap_or_default(),
            };
            let row = ctx.edit(&id, as_case, |c| {
                c.events.push(event);
                Ok(())
            })?;
            output::saved(&row, ctx.json)
        }
        CaseCmd::List { status, grid, text } => list(
            ctx,
            ListArgs {
                kind: Some("case".into()),
                status,
                grid,
                text,
                limit: 200,
                ..ListArgs::default()
            },
        ),
    }
}

/// The finding of `patrol` a new case is registered for: the one named, or the only one
/// not yet linked to a case.
fn pick_finding(patrol: &Patrol, given: Option<&str>) -> Result<Option<String>> {
    if let Some(g) = given {
        let by_number = g
            .parse::<usize>()
            .ok()
            .and_then(|n| n.checked_sub(1))
            .and_then(|i| patrol.findings.get(i));
        let found = by_number.or_else(|| patrol.findings.iter().find(|f| f.id == g));
        return match found {
            Some(f) => Ok(Some(f.id.clone())),
            None => Err(usage(
                &format!("这次排查没有第 {g} 条发现"),
                &format!("the patrol has no finding {g}"),
            )),
        };
    }
    let unlinked: Vec<&Finding> = patrol
        .findings
        .iter()
        .filter(|f| f.case_id.is_none())
        .collect();
    match unlinked.as_slice() {
        [only] => Ok(Some(only.id.clone())),
        [] => Ok(None),
        _ => {
            eprintln!(
                "{}",
                tr(
                    "提示：这次排查有多条未关联的发现，未自动关联；可用 --finding N 指定",
                    "note: the patrol has several unlinked findings; none was linked (use --finding N)",
                )
            );
            Ok(None)
        }
    }
}

type CaseSetter = Box<dyn FnOnce(&mut Case)>;

fn case_setter(field: &str, value: &str) -> Result<CaseSetter> {
    let v = value.to_owned();
    Ok(match field.trim() {
        "title" => Box::new(move |c| c.title = v),
        "description" => Box::new(move |c| c.description = v),
        "category" => {
            let cat = parse::labeled(value, Category::ALL, &[], ("类别", "category"))?;
            Box::new(move |c| c.category = cat)
        }
        "risk" => {
            let r = parse::labeled(
                value,
                RiskLevel::ALL,
                &[
                    ("low", RiskLevel::Low),
                    ("medium", RiskLevel::Medium),
                    ("high", RiskLevel::High),
                ],
                ("风险等级", "risk"),
            )?;
            Box::new(move |c| c.risk = r)
        }
        "kind" => {
            let k = parse::labeled(value, CaseKind::ALL, &[], ("事项类型", "case kind"))?;
            Box::new(move |c| c.kind = k)
        }
        "persons_involved" | "persons" => {
            let n: u32 = value.trim().parse().map_err(|_| {
                usage(
                    "persons_involved 应为非负整数",
                    "persons_involved must be a whole number",
                )
            })?;
            Box::new(move |c| c.persons_involved = n)
        }
        "location" => {
            let loc = match value.trim() {
                "" | "none" => None,
                s => Some(parse::location(s)?),
            };
            Box::new(move |c| c.location = loc)
        }
        other => {
            return Err(usage(
                &format!(
                    "不能用 case set 修改字段“{other}”；可选：title, description, category, risk, \
                     kind, persons_involved, location"
                ),
                &format!(
                    "case set cannot change {other:?}; fields: title, description, category, \
                     risk, kind, persons_involved, location"
                ),
            ));
        }
    })
}

// mediation
// ---------------------------------------------------------------------------------------------

fn mediation(ctx: &mut Ctx, cmd: MediationCmd) -> Result<()> {
    match cmd {
        MediationCmd::New {
            case,
            mediator,
            legal_worker,
            level: body_level,
            backlog,
            parties,
        } => {
            let case_id = ctx.resolve_kind(&case, RecordKind::Case)?;
            let Record::Case(c) = ctx.store.get(&case_id)? else {
                bail!(tr("记录类型不符", "the record is not a case"));
            };
            let body_level = body_level
                .as_deref()
                .map(level)
                .transpose()?
                .unwrap_or(Level::Community);
            let territory = match body_level {
                Level::Community => TerritoryPath {
                    grid: String::new(),
                    ..c.territory.clone()
                },
                Level::Street => TerritoryPath {
                    street: c.territory.street.clone(),
                    ..TerritoryPath::default()
                },
                Level::District => TerritoryPath::default(),
            };
            let mut all_parties = c.parties.clone();
            for p in &parties {
                all_parties.push(parse::party(p)?);
            }
            let m = Mediation {
                id: RecordId::new_v7(),
                territory,
                created_by: ctx.user_ref(),
                created_at: ctx.store.now(),
                case: Some(c.id),
                body_level,
                mediator: parse::staff(&mediator),
                legal_worker: legal_worker.as_deref().map(parse::staff),
                parties: all_parties,
                backlog_petition: backlog,
                ..Mediation::default()
            };
            create(ctx, &Record::Mediation(m))
        }
        MediationCmd::Session {
            id,
            date: day,
            place,
            attendees,
            notes,
        } => {
            let id = ctx.resolve_kind(&id, RecordKind::Mediation)?;
            let day = date(ctx, &day, "--date")?;
            let row = ctx.edit(&id, as_mediation, |m| {
                m.sessions.push(MediationSession {
                    id: new_item_id(),
                    date: day,
                    place,
                    attendees,
                    notes: notes.unwrap_or_default(),
                });
                Ok(())
            })?;
            output::saved(&row, ctx.json)
        }
        MediationCmd::Outcome {
            id,
            outcome,
            handoff,
            agreement,
        } => {
            let id = ctx.resolve_kind(&id, RecordKind::Mediation)?;
            let outcome = parse::labeled(
                &outcome,
                MediationOutcome::ALL,
                &[("agree", MediationOutcome::Agreed)],
                ("调解结果", "outcome"),
            )?;
            let handoff = handoff.as_deref().map(channel).transpose()?;
            let row = ctx.edit(&id, as_mediation, |m| {
                m.outcome = Some(outcome);
                m.handoff = handoff;
                if let Some(a) = agreement {
                    m.agreement = a;
                }
                Ok(())
            })?;
            output::saved(&row, ctx.json)
        }
    }
}

// reception
// ---------------------------------------------------------------------------------------------

fn reception(ctx: &mut Ctx, cmd: ReceptionCmd) -> Result<()> {
    match cmd {
        ReceptionCmd::New {
            leader,
            level: lvl,
            site,
            date: day,
            street,
            named,
        } => {
            let lvl = parse::labeled(
                &lvl,
                ReceptionLevel::ALL,
                &[("区", ReceptionLevel::District)],
                ("接访级别", "reception level"),
            )?;
            let day = date(ctx, &day, "--date")?;
            let street = street.or_else(|| {
                (lvl == ReceptionLevel::Street)
                    .then(|| ctx.user.scope.get(..9).map(str::to_owned))
                    .flatten()
            });
            let territory = match (&street, lvl) {
                (Some(s), _) => TerritoryPath {
                    street: parse::territory(s).street,
                    ..TerritoryPath::default()
                },
                (None, ReceptionLevel::District) => TerritoryPath::default(),
                (None, ReceptionLevel::Street) => {
                    return Err(usage(
                        "街道接访需要 --street CODE",
                        "a street session needs --street CODE",
                    ));
                }
            };
            let s = ReceptionSession {
                id: RecordId::new_v7(),
                territory,
                created_by: ctx.user_ref(),
                created_at: ctx.store.now(),
                leader: parse::staff(&leader),
                level: lvl,
                site,
                date: day,
                named_by_public: named,
                visits: Vec::new(),
            };
            create(ctx, &Record::Reception(s))
        }
        ReceptionCmd::Visit {
            id,
            persons,
            summary,
            case,
        } => {
            let id = ctx.resolve_kind(&id, RecordKind::Reception)?;
            let case = case
                .map(|c| record_ref(ctx, &c, RecordKind::Case))
                .transpose()?;
            let row = ctx.edit(&id, as_reception, |s| {
                s.visits.push(Visit {
                    id: new_item_id(),
                    persons,
                    summary: summary.unwrap_or_default(),
                    case,
                });
                Ok(())
            })?;
            output::saved(&row, ctx.json)
        }
    }
}

// petition
// ---------------------------------------------------------------------------------------------

fn petition(ctx: &mut Ctx, cmd: PetitionCmd) -> Result<()> {
    match cmd {
        PetitionCmd::New {
            channel: ch,
            grid,
            street,
            subject,
            description,
            first,
            persons,
            received,
            parties,
            case,
        } => {
            let ch = parse::labeled(
                &ch,
                PetitionChannel::ALL,
                &[("web", PetitionChannel::Online)],
                ("信访渠道", "channel"),
            )?;
            let territory = match (&grid, &street) {
                (Some(g), _) => parse::territory(g),
                (None, Some(s)) => TerritoryPath {
                    street: s.trim().to_owned(),
                    ..TerritoryPath::default()
                },
                (None, None) => TerritoryPath::default(),
            };
            let received = match received {
                Some(r) => date(ctx, &r, "--received")?,
                None => today(ctx),
            };
            let petitioners = parties
                .iter()
                .map(|p| parse::party(p))
                .collect::<Result<Vec<_>>>()?;
            let persons = persons
                .unwrap_or_else(|| u32::try_from(petitioners.len()).unwrap_or(u32::MAX).max(1));
            let case = case
                .map(|c| record_ref(ctx, &c, RecordKind::Case))
                .transpose()?;
            let p = Petition {
                id: RecordId::new_v7(),
                territory,
                created_by: ctx.user_ref(),
                created_at: ctx.store.now(),
                channel: ch,
                received_on: received,
                first,
                petitioners,
                persons,
                subject,
                description: description.unwrap_or_default(),
                case,
                steps: if first {
                    Petition::standard_steps(received)
                } else {
                    Vec::new()
                },
            };
            create(ctx, &Record::Petition(p))
        }
        PetitionCmd::Step {
            id,
            method,
            seq,
            done,
        } => {
            let id = ctx.resolve_kind(&id, RecordKind::Petition)?;
            let method = parse::labeled(
                &method,
                StepMethod::ALL,
                &[
                    ("speedup", StepMethod::SpeedUp),
                    ("interviews", StepMethod::Interview),
                    ("supervise", StepMethod::Supervision),
                ],
                ("工作法步骤", "step method"),
            )?;
            let done = date(ctx, &done, "--done")?;
            let row = ctx.edit(&id, as_petition, |p| {
                let step = p
                    .steps
                    .iter_mut()
                    .find(|s| s.method == method && s.seq == seq)
                    .ok_or_else(|| {
                        usage(
                            "这件信访没有这个步骤（只有初信初访才有“1-2-3-4”步骤）",
                            "the petition has no such step (only first petitions have 1-2-3-4 steps)",
                        )
                    })?;
                step.done_on = Some(done);
                Ok(())
            })?;
            output::saved(&row, ctx.json)
        }
    }
}

// show, history, conflicts
// ---------------------------------------------------------------------------------------------

fn show(ctx: &mut Ctx, id: &str) -> Result<()> {
    let id = ctx.resolve(id)?;
    let value = ctx.store.get_value(&id)?;
    let row = ctx.store.row(&id)?;
    let record = summary::parse_record(&value);
    let state = match &record {
        Some(Record::Case(c)) => Some(c.state()),
        _ => None,
    };
    let shown = Shown {
        id: id.clone(),
        kind: row.summary.kind.clone(),
        summary: row.summary,
        state,
        record: value,
        conflicts: ctx.store.conflicts(&id)?,
        updated_ms: row.updated_ms,
        pending: row.pending,
        refused: row.refused,
    };
    output::show(&shown, record.as_ref(), ctx.json)
}

fn history(ctx: &mut Ctx, id: &str, at: Option<&str>) -> Result<()> {
    let id = ctx.resolve(id)?;
    let Some(at) = at else {
        let entries = ctx.store.history(&id)?;
        return output::history(&entries, ctx.json);
    };
    let when = parse::datetime(at)?;
    let value = ctx.store.as_of(&id, when)?;
    if ctx.json {
        return output::json(&value);
    }
    if value.is_null() {
        out!(
            "{}",
            tr(
                "那时这条记录还不存在",
                "the record did not exist at that time"
            )
        );
        return Ok(());
    }
    out!(
        "{} {}:",
        tr("记录截至", "the record as of"),
        when.with_timezone(&chrono::Local)
            .format("%Y-%m-%d %H:%M:%S")
    );
    output::json(&value)
}

fn resolve_conflict(ctx: &mut Ctx, id: &str, field: &str, value: &str) -> Result<()> {
    let id = ctx.resolve(id)?;
    let path = FieldPath::from_str(field.trim()).map_err(|_| {
        usage(
            &format!("“{field}”不是有效的字段路径（如 title 或 parties[0].phone）"),
            &format!("{field:?} is not a field path (like title or parties[0].phone)"),
        )
    })?;
    let had = ctx.store.conflicts(&id)?.iter().any(|c| c.path == path);
    if !had {
        eprintln!(
            "{}",
            tr(
                &format!("提示：字段 {path} 没有未解决的冲突，仍按普通修改保存"),
                &format!("note: field {path} has no open conflict; saving as an ordinary edit"),
            )
        );
    }
    let author = ctx.author();
    ctx.store
        .set_field(&id, &path, &parse::json_or_string(value), &author)?;
    let row = ctx.store.row(&id)?;
    output::saved(&row, ctx.json)
}

// change files
// ---------------------------------------------------------------------------------------------

fn export_changes(ctx: &mut Ctx, file: &Path) -> Result<()> {
    let changes = ctx.store.export_changes()?;
    let text = serde_json::to_string(&changes)?;
    // Write beside the target and rename, so a half-written file never looks complete.
    let tmp = file.with_extension("part");
    fs::write(&tmp, text)
        .and_then(|()| fs::rename(&tmp, file))
        .with_context(|| {
            tr(
                &format!("无法写入 {}", file.display()),
                &format!("cannot write {}", file.display()),
            )
        })?;
    if ctx.json {
        return output::json(&json!({
            "file": file,
            "device": changes.device,
            "records": changes.docs.len(),
        }));
    }
    out!(
        "{}",
        tr(
            &format!("已导出 {} 条记录到 {}", changes.docs.len(), file.display()),
            &format!(
                "exported {} record(s) to {}",
                changes.docs.len(),
                file.display()
            ),
        )
    );
    Ok(())
}

fn import_changes(ctx: &mut Ctx, file: &Path) -> Result<()> {
    let text = fs::read_to_string(file).with_context(|| {
        tr(
            &format!("无法读取 {}", file.display()),
            &format!("cannot read {}", file.display()),
        )
    })?;
    let changes: ChangeFile = serde_json::from_str(&text).map_err(|e| {
        anyhow::anyhow!(tr(
            &format!("{} 不是网格通变更文件（{e}）", file.display()),
            &format!("{} is not a Gridwork change file ({e})", file.display()),
        ))
    })?;
    let outcomes = ctx.store.import_changes(&changes)?;
    if ctx.json {
        return output::json(&outcomes);
    }
    let changed = outcomes.iter().filter(|o| o.new_ops > 0).count();
    let incomplete = outcomes.iter().filter(|o| o.incomplete).count();
    out!(
        "{}",
        tr(
            &format!(
                "已导入 {} 条记录，其中 {changed} 条有新修改",
                outcomes.len()
            ),
            &format!(
                "imported {} record(s), {changed} with new changes",
                outcomes.len()
            ),
        )
    );
    if incomplete > 0 {
        out!(
            "{}",
            tr(
                &format!("{incomplete} 条记录缺少前序修改，请向对方索取完整文件"),
                &format!("{incomplete} record(s) lack earlier changes; ask for a full file"),
            )
        );
    }
    Ok(())
}

// list
// ---------------------------------------------------------------------------------------------

fn list(ctx: &Ctx, a: ListArgs) -> Result<()> {
    let filter = ListFilter {
        kind: a.kind,
        status: a.status,
        grid: a.grid,
        within: a.within,
        text: a.text,
        conflicted: a.conflicted,
        limit: Some(a.limit),
        ..ListFilter::default()
    };
    let rows = ctx.store.list(&filter)?;
    output::rows(&rows, ctx.json)
}

// stress-write (test aid)
// ---------------------------------------------------------------------------------------------

/// Writes cases in a loop: new ones, and edits that change the title and the description
/// together (both carry the same version), so a half-applied edit would be visible. Prints a
/// line after each committed write.
fn stress_write(ctx: &mut Ctx, count: u32, grid: &str) -> Result<()> {
    use std::io::Write as _;
    let territory = parse::territory(grid);
    let mut ids: Vec<(String, u32)> = Vec::new();
    let mut out = std::io::stdout().lock();
    for i in 0..count {
        let random = uuid::Uuid::new_v4().as_u128();
        if ids.is_empty() || random.is_multiple_of(3) {
            let hlc = ctx.store.next_hlc()?;
            let me = ctx.user_ref();
            let c = Case {
                id: RecordId::new_v7(),
                territory: territory.clone(),
                created_by: me.clone(),
                created_at: ctx.store.now(),
                kind: CaseKind::Hazard,
                title: format!("stress {i} v0"),
                description: format!("stress {i}. version 0."),
                persons_involved: 1,
                events: vec![CaseEvent {
                    id: new_item_id(),
                    at: hlc,
                    by: me,
                    role: ctx.user.role,
                    kind: CaseEventKind::Raised,
                    note: String::new(),
                }],
                ..Case::default()
            };
            let id = c.id.to_string();
            let author = ctx.author();
            ctx.store.create(&Record::Case(c), &author)?;
            writeln!(out, "created {id}")?;
            ids.push((id, 0));
        } else {
            let n = usize::try_from(random % (ids.len() as u128)).unwrap_or(0);
            let (id, version) = ids[n].clone();
            let next = version + 1;
            let at = ctx.store.next_hlc()?;
            let by = ctx.user_ref();
            let role = ctx.user.role;
            ctx.edit(&id, as_case, |c| {
                let base = c.title.split(" v").next().unwrap_or_default().to_owned();
                c.title = format!("{base} v{next}");
                let head = c.description.split(" version").next().unwrap_or_default();
                c.description = format!("{head} version {next}. {}", "x".repeat(64));
                c.events.push(CaseEvent {
                    id: new_item_id(),
                    at,
                    by,
                    role,
                    kind: CaseEventKind::FollowUpVisit,
                    note: format!("v{next}"),
                });
                Ok(())
            })?;
            ids[n].1 = next;
            writeln!(out, "updated {id} v{next}")?;
        }
        out.flush()?;
    }
    Ok(())
}

/// `report`: the figures for a period and scope, as a table, JSON, XLSX or CSV.
fn report(ctx: &Ctx, args: &crate::args::ReportArgs) -> Result<()> {
    use gridwork_core::report::{Cell, ReportExport, ReportParams};
    let period = args.period.parse().map_err(|e| {
        usage(
            &format!("--period 无法识别：{e}"),
            &format!("--period is not a period: {e}"),
        )
    })?;
    let mut params = ReportParams::new(period);
    if let Some(scope) = &args.scope {
        params = params.within(scope.clone());
    }
    let today = match &args.today {
        Some(t) => t.parse().map_err(|_| {
            usage(
                "--today 应为 YYYY-MM-DD 格式的日期",
                "--today must be a date as YYYY-MM-DD",
            )
        })?,
        None => ctx.store.today(),
    };
    params = params.today(today);
    let report = ctx.store.report(&params)?;
    if let Some(path) = &args.xlsx {
        report.to_xlsx(path)?;
        eprintln!("{} {}", tr("已写入", "wrote"), path.display());
    }
    if let Some(dir) = &args.csv {
        fs::create_dir_all(dir)?;
        let files = report.to_csv_dir(dir)?;
        eprintln!(
            "{} {} CSV → {}",
            tr("已写入", "wrote"),
            files.len(),
            dir.display()
        );
    }
    if ctx.json {
        println!("{}", report.to_json());
    } else if args.xlsx.is_none() && args.csv.is_none() {
        let lang = crate::ctx::lang();
        for sheet in report.sheets(lang).iter().take(2) {
            println!("== {} ==", sheet.name(lang));
            let headers: Vec<&str> = sheet.columns.iter().map(|c| c.label(lang)).collect();
            println!("{}", headers.join("\t"));
            for row in &sheet.rows {
                let cells: Vec<String> = row.iter().map(Cell::to_text).collect();
                println!("{}", cells.join("\t"));
            }
            println!();
        }
        println!(
            "{}",
            tr(
                "更多：--xlsx 文件 或 --csv 目录 或 --json",
                "more: --xlsx FILE, --csv DIR or --json"
            )
        );
    }
    Ok(())
}
