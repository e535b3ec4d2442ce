//! The app's commands ([`gridwork_schema::api`]), implemented once for every shell: the
//! Tauri app and the development server that serves the UI to a plain browser.
//!
//! [`App`] owns the device store and the sync state. [`App::run_sync_loop`] syncs in the
//! background: at once after a save, every [`AppConfig::interval`] while the server answers,
//! and with growing pauses while it does not. No command waits for the network except
//! `login`, `sync_now` and fetching a missing photo.

use std::path::Path;
use std::str::FromStr;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use base64::Engine as _;
use chrono::{DateTime, Utc};
use gridwork_schema::api::{
    ApiError, ApiRequest, ApiResponse, ConflictChoice, ConflictView, DashboardView, ErrorCode,
    GridView, HistoryItem, HistoryView, Message, NewCase, PhotoView, RecordFilter, RecordRow,
    RecordView, RefusalView, RefusedRecord, StatusView, SyncProgress, SyncSummary,
    checklist_template, path_of_code,
};
use gridwork_schema::territory::{Territory, is_within};
use gridwork_schema::wire::UserInfo;
use gridwork_schema::{
    CaseEvent, CaseEventKind, CaseKind, Category, ChecklistItem, Draft, Finding, Lang, Patrol,
    PatrolKind, Record, RecordId, RiskLevel, Rule, UserRef, ValidationError, ValidationErrors,
};
use serde_json::Value;
use tokio::sync::Notify;

use crate::doc::{Author, FieldPath};
use crate::report::{Period, RecordQuery, Report, ReportError, ReportParams};
use crate::store::{self, ListFilter, Store, StoreError};
use crate::sync::{self, RetryPolicy, SyncClient, SyncError};

mod forms;

const LANG_KEY: &str = "ui.lang";

/// How the app behaves.
#[derive(Debug, Clone)]
pub struct AppConfig {
    /// The server the first-run screen offers.
    pub default_server: String,
    /// Pause between background syncs while the server answers.
    pub interval: Duration,
    /// The first pause after a failed sync; doubled each time up to `max_backoff`.
    pub min_backoff: Duration,
    /// The longest pause between attempts while the server does not answer.
    pub max_backoff: Duration,
}

impl Default for AppConfig {
    fn default() -> Self {
        Self {
            default_server: gridwork_schema::api::DEFAULT_SERVER.into(),
            interval: Duration::from_secs(30),
            min_backoff: Duration::from_secs(2),
            max_backoff: Duration::from_secs(60),
        }
    }
}

#[derive(Debug, Default)]
struct SyncState {
    online: Option<bool>,
    syncing: bool,
    progress: Option<SyncProgress>,
    last_error: Option<Message>,
}

/// The device: its store, its sync state, and the commands the UI sends.
#[derive(Debug)]
pub struct App {
    store: Mutex<Store>,
    state: Mutex<SyncState>,
    wake: Notify,
    gate: tokio::sync::Mutex<()>,
    config: AppConfig,
}

type Res<T> = Result<T, ApiError>;

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // Every store write is one SQLite transaction, so a panic elsewhere leaves it consistent.
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl App {
    /// Opens (or creates) the device store in `dir`.
    pub fn open(dir: &Path, config: AppConfig) -> Result<Self, StoreError> {
        let store = Store::init(dir)?;
        Ok(Self::with_store(store, config))
    }

    /// An app over an open store.
    pub fn with_store(store: Store, config: AppConfig) -> Self {
        Self {
            store: Mutex::new(store),
            state: Mutex::new(SyncState::default()),
            wake: Notify::new(),
            gate: tokio::sync::Mutex::new(()),
            config,
        }
    }

    /// The store, for callers that need more than the commands (tests, tools).
    pub fn store(&self) -> &Mutex<Store> {
        &self.store
    }

    /// Handles one request from the UI.
    pub async fn handle(&self, request: ApiRequest) -> Result<ApiResponse, ApiError> {
        let op = request.op();
        let started = Instant::now();
        let result = match request {
            ApiRequest::Login {
                server,
                user,
                password,
            } => self.login(&server, &user, &password).await,
            ApiRequest::SyncNow => self.sync_once().await.map(ApiResponse::Synced),
            ApiRequest::GetPhoto { sha256, media_type } => self.photo(&sha256, &media_type).await,
            other => self.handle_local(other),
        };
        match &result {
            Ok(_) => tracing::debug!(op, ms = started.elapsed().as_millis(), "api"),
            Err(e) => tracing::info!(op, code = ?e.code, "api error"),
        }
        result
    }

    /// Asks the background loop to sync soon (after a save).
    pub fn request_sync(&self) {
        self.wake.notify_one();
    }

    /// Syncs in the background forever: soon after every save, every `interval` while the
    /// server answers, with doubling pauses (up to `max_backoff`) while it does not.
    pub async fn run_sync_loop(self: Arc<Self>) {
        let mut pause = self.config.interval;
        loop {
            let _ = tokio::time::timeout(pause, self.wake.notified()).await;
            if self.session().ok().flatten().is_none() {
                pause = self.config.interval;
                continue;
            }
            pause = match self.sync_once().await {
                Ok(_) => self.config.interval,
                Err(e) if e.code == ErrorCode::Unreachable => {
                    if pause >= self.config.interval || pause < self.config.min_backoff {
                        self.config.min_backoff
                    } else {
                        (pause * 2).min(self.config.max_backoff)
                    }
                }
                Err(_) => self.config.max_backoff,
            };
        }
    }

    /// Runs one sync session (waiting for one already running to end first).
    pub async fn sync_once(&self) -> Res<SyncSummary> {
        let _gate = self.gate.lock().await;
        let client = self.session()?.ok_or_else(not_logged_in).and_then(|s| {
            SyncClient::new(&s.server)
                .map(|c| {
                    c.with_token(&s.token).with_retry(RetryPolicy {
                        attempts: 2,
                        ..RetryPolicy::default()
                    })
                })
                .map_err(|e| sync_error(&e))
        })?;
        {
            let mut st = lock(&self.state);
            st.syncing = true;
            st.progress = Some(SyncProgress::default());
        }
        let mut on_progress = |p: &sync::Progress| {
            lock(&self.state).progress = Some(SyncProgress {
                phase: p.phase.clone(),
                pushed: p.pushed,
                pulled: p.pulled,
            });
        };
        let result = sync::sync_with(&self.store, &client, &mut on_progress).await;
        let mut st = lock(&self.state);
        st.syncing = false;
        st.progress = None;
        match result {
            Ok(report) => {
                st.online = Some(true);
                st.last_error = None;
                Ok(SyncSummary {
                    pushed: report.pushed,
                    pulled: report.pulled,
                    refused: report.refused.len(),
                })
            }
            Err(e) => {
                let err = sync_error(&e);
                st.online = Some(!matches!(e, SyncError::Unreachable(_)));
                st.last_error = Some(err.message.clone());
                tracing::info!(error = %e, "sync failed");
                Err(err)
            }
        }
    }

    fn session(&self) -> Res<Option<sync::Session>> {
        sync::session(&lock(&self.store)).map_err(|e| store_error(&e))
    }

    fn user(&self) -> Res<UserInfo> {
        self.session()?.map(|s| s.user).ok_or_else(not_logged_in)
    }

    fn author(&self, user: &UserInfo) -> Author {
        Author {
            user: user.id.clone(),
            name: user.name.clone(),
            device: lock(&self.store).identity().device_id.to_string(),
        }
    }

    async fn login(&self, server: &str, user: &str, password: &str) -> Res<ApiResponse> {
        let server = server.trim();
        if server.is_empty() || user.trim().is_empty() {
            return Err(ApiError::new(
                ErrorCode::BadRequest,
                "请填写服务器地址和用户名",
                "Enter the server address and the user name",
            ));
        }
        let _gate = self.gate.lock().await;
        match sync::login(&self.store, server, user.trim(), password).await {
            Ok(_) => {
                lock(&self.state).online = Some(true);
                drop(_gate);
                self.request_sync();
                self.status().map(ApiResponse::Status)
            }
            Err(SyncError::Unauthorized(_)) => Err(ApiError::new(
                ErrorCode::Unauthorized,
                "用户名或密码错误",
                "Wrong user name or password",
            )),
            Err(e) => Err(sync_error(&e)),
        }
    }

    async fn photo(&self, sha256: &str, media_type: &str) -> Res<ApiResponse> {
        let read = |app: &Self| lock(&app.store).read_attachment(sha256);
        let bytes = match read(self) {
            Ok(b) => b,
            Err(_) => {
                sync::fetch_attachment(&self.store, sha256, media_type)
                    .await
                    .map_err(|e| sync_error(&e))?;
                read(self).map_err(|e| store_error(&e))?
            }
        };
        Ok(ApiResponse::Photo(PhotoView {
            media_type: media_type.to_owned(),
            data: base64::engine::general_purpose::STANDARD.encode(bytes),
        }))
    }

    fn handle_local(&self, request: ApiRequest) -> Res<ApiResponse> {
        match request {
            ApiRequest::Status => self.status().map(ApiResponse::Status),
            ApiRequest::Logout => {
                lock(&self.store).wipe().map_err(|e| store_error(&e))?;
                *lock(&self.state) = SyncState::default();
                Ok(ApiResponse::Done)
            }
            ApiRequest::SetLang { lang } => {
                let code = lang.code();
                lock(&self.store)
                    .set_meta(LANG_KEY, Some(code))
                    .map_err(|e| store_error(&e))?;
                Ok(ApiResponse::Done)
            }
            ApiRequest::Dashboard => self.dashboard().map(ApiResponse::Dashboard),
            ApiRequest::ListRecords { filter } => self.list(&filter).map(ApiResponse::Records),
            ApiRequest::GetRecord { id } => self.record(id).map(ApiResponse::Record),
            ApiRequest::Grids { query } => self.grids(&query).map(ApiResponse::Grids),
            ApiRequest::CreatePatrol { kind, grid, theme } => {
                self.create_patrol(kind, &grid, theme)
            }
            ApiRequest::SetChecklistItem { id, item, done } => self.edit_patrol(id, |p| {
                let entry = p.checklist.iter_mut().find(|c| c.id == item);
                entry.map(|c| c.done = done).ok_or_else(bad_item)
            }),
            ApiRequest::AddFinding { id, text } => self.edit_patrol(id, |p| {
                p.findings.push(Finding {
                    id: uuid::Uuid::now_v7().to_string(),
                    text: text.trim().to_owned(),
                    case_id: None,
                });
                Ok(())
            }),
            ApiRequest::SetLocation { id, location } => self.edit_patrol(id, |p| {
                p.location = location;
                Ok(())
            }),
            ApiRequest::AddPhoto {
                id,
                name,
                media_type,
                data,
            } => {
                let bytes = base64::engine::general_purpose::STANDARD
                    .decode(data.as_bytes())
                    .map_err(|_| {
                        ApiError::new(
                            ErrorCode::BadRequest,
                            "照片数据无法读取",
                            "The photo data cannot be read",
                        )
                    })?;
                let att = lock(&self.store)
                    .put_attachment(&bytes, &media_type, &name)
                    .map_err(|e| store_error(&e))?;
                self.edit_patrol(id, |p| {
                    if !p.photos.iter().any(|a| a.sha256 == att.sha256) {
                        p.photos.push(att);
                    }
                    Ok(())
                })
            }
            ApiRequest::FinishPatrol { id } => {
                let now = lock(&self.store).now();
                self.edit_patrol(id, |p| {
                    p.ended_at.get_or_insert(now);
                    Ok(())
                })
            }
            ApiRequest::CreateCase(new) => self.create_case(&new),
            ApiRequest::RaiseCaseFromFinding { patrol, finding } => {
                self.raise_from_finding(patrol, &finding)
            }
            ApiRequest::AddCaseEvent { id, kind, note } => self.add_case_event(id, kind, note),
            ApiRequest::SetField { id, field, value }
            | ApiRequest::ResolveConflict { id, field, value } => {
                self.set_field(id, &field, &value)
            }
            ApiRequest::Conflicts => self.conflicts().map(ApiResponse::Conflicts),
            ApiRequest::History { id, at } => self.history(id, at).map(ApiResponse::History),
            ApiRequest::SaveDraft { id, form, data } => self.save_draft(id, &form, data),
            ApiRequest::GetDraft { form } => self.draft(&form).map(ApiResponse::Draft),
            ApiRequest::ClearDraft { id } => self.edit(id, false, |r| match r {
                Record::Draft(d) => {
                    d.data = Value::Null;
                    Ok(())
                }
                _ => Err(bad_kind()),
            }),
            ApiRequest::CreateMediation(new) => self.create_mediation(&new),
            ApiRequest::AddMediationSession {
                id,
                date,
                place,
                attendees,
                notes,
            } => self.add_mediation_session(id, date, place, attendees, notes),
            ApiRequest::SetMediationOutcome {
                id,
                outcome,
                agreement,
                handoff,
            } => self.set_mediation_outcome(id, outcome, agreement, handoff),
            ApiRequest::CreateReception(new) => self.create_reception(&new),
            ApiRequest::AddVisit {
                id,
                persons,
                summary,
                case,
            } => self.add_visit(id, persons, summary, case),
            ApiRequest::Receptions => self.receptions().map(ApiResponse::Receptions),
            ApiRequest::CreatePetition(new) => self.create_petition(&new),
            ApiRequest::MarkPetitionStep {
                id,
                method,
                seq,
                done_on,
                note,
            } => self.mark_petition_step(id, method, seq, done_on, note),
            ApiRequest::Streets => self.streets().map(ApiResponse::Grids),
            ApiRequest::Report { period, scope } => self
                .report(&period, scope.as_deref())
                .map(ApiResponse::Report),
            ApiRequest::ReportRecords { query } => {
                self.report_records(&query).map(ApiResponse::Records)
            }
            ApiRequest::Login { .. } | ApiRequest::SyncNow | ApiRequest::GetPhoto { .. } => {
                Err(ApiError::new(
                    ErrorCode::Internal,
                    "内部错误",
                    "internal error: asynchronous request handled synchronously",
                ))
            }
        }
    }

    /// The sync bar's state.
    pub fn status(&self) -> Res<StatusView> {
        let store = lock(&self.store);
        let dev = sync::status(&store).map_err(|e| store_error(&e))?;
        let lang = store
            .meta(LANG_KEY)
            .ok()
            .flatten()
            .and_then(|l| Lang::from_str(&l).ok())
            .unwrap_or_default();
        let refused = dev
            .refused
            .iter()
            .map(|(id, r)| RefusedRecord {
                id: id.clone(),
                title: store.row(id).map(|r| r.summary.title).unwrap_or_default(),
                refusal: RefusalView {
                    code: r.code.clone(),
                    message: r.message.clone(),
                },
            })
            .collect();
        let conflicts = store
            .list(&ListFilter {
                conflicted: true,
                limit: Some(10_000),
                ..ListFilter::default()
            })
            .map_err(|e| store_error(&e))?
            .len();
        drop(store);
        let st = lock(&self.state);
        let scope_name = dev
            .user
            .as_ref()
            .and_then(|u| Territory::chengyang().get(&u.scope))
            .map(|u| u.name.clone())
            .unwrap_or_default();
        Ok(StatusView {
            device_id: dev.device_id,
            user: dev.user,
            scope_name,
            server: dev.server,
            default_server: self.config.default_server.clone(),
            lang,
            online: st.online,
            syncing: st.syncing,
            progress: st.progress.clone(),
            pending: dev.pending,
            last_sync: dev.last_sync,
            last_error: st.last_error.clone(),
            refused,
            conflicts: u32::try_from(conflicts).unwrap_or(u32::MAX),
        })
    }

    fn list(&self, f: &RecordFilter) -> Res<Vec<RecordRow>> {
        let mut filter = ListFilter {
            kind: f.kind.clone().filter(|s| !s.is_empty()),
            status: f.status.clone().filter(|s| !s.is_empty()),
            grid: f.grid.clone().filter(|s| !s.is_empty()),
            within: None,
            text: f.text.clone().filter(|s| !s.is_empty()),
            from: f.from,
            to: f.to,
            conflicted: f.conflicted,
            limit: f.limit,
            offset: None,
        };
        let any_kind = filter.kind.is_none();
        // `scheduled` is derived from `held` as rows are read (see `summary::status_on`).
        let wanted = filter.status.clone();
        if wanted.as_deref() == Some("scheduled") {
            filter.status = Some("held".into());
        }
        let (rows, today) = {
            let store = lock(&self.store);
            let rows = store.list(&filter).map_err(|e| store_error(&e))?;
            (rows, store.today())
        };
        // Drafts are unfinished forms: listed only when asked for by kind.
        Ok(rows
            .into_iter()
            .filter(|r| !(any_kind && r.summary.kind == "draft"))
            .map(|r| row_view(r, today))
            .filter(|r| wanted.as_ref().is_none_or(|w| *w == r.status))
            .collect())
    }

    fn dashboard(&self) -> Res<DashboardView> {
        let list = |kind: &str, status: &str| {
            self.list(&RecordFilter {
                kind: Some(kind.into()),
                status: Some(status.into()),
                limit: Some(500),
                ..RecordFilter::default()
            })
        };
        let mut open_cases = list("case", "open")?;
        open_cases.extend(list("case", "in_mediation")?);
        open_cases.sort_by_key(|r| r.created_at);
        let mut store = lock(&self.store);
        let today = store.now().date_naive();
        let mut patrols: Vec<RecordRow> = Vec::new();
        drop(store);
        for r in self.list(&RecordFilter {
            kind: Some("patrol".into()),
            limit: Some(200),
            ..RecordFilter::default()
        })? {
            let today_or_going =
                r.status == "ongoing" || r.created_at.is_some_and(|t| t.date_naive() == today);
            if today_or_going {
                patrols.push(r);
            }
        }
        let petitions = list("petition", "open")?;
        store = lock(&self.store);
        let overdue_petitions = petitions
            .into_iter()
            .filter(|r| {
                matches!(store.get(&r.id), Ok(Record::Petition(p)) if p.first && p.is_overdue(today))
            })
            .collect();
        drop(store);
        let conflicts = self.status()?.conflicts;
        let (my_mediations, my_receptions, my_cases, escalated_cases, report_in_cases) =
            self.role_sections(&open_cases, today)?;
        Ok(DashboardView {
            open_cases,
            patrols,
            overdue_petitions,
            conflicts,
            my_mediations,
            my_receptions,
            my_cases,
            escalated_cases,
            report_in_cases,
        })
    }

    fn record(&self, id: RecordId) -> Res<RecordView> {
        let mut store = lock(&self.store);
        let key = id.to_string();
        let row = store.row(&key).map_err(|e| store_error(&e))?;
        let record = store.get(&key).ok();
        Ok(RecordView {
            row: row_view(row, store.today()),
            record,
        })
    }

    fn grids(&self, query: &str) -> Res<Vec<GridView>> {
        let user = self.user()?;
        let t = Territory::chengyang();
        let q = query.trim();
        Ok(t.grids()
            .filter(|g| is_within(&g.code, &user.scope))
            .filter(|g| q.is_empty() || g.code.contains(q) || g.name.contains(q))
            .take(50)
            .map(|g| GridView {
                code: g.code.clone(),
                name: g.name.clone(),
                community: g
                    .parent
                    .as_deref()
                    .and_then(|c| t.get(c))
                    .map(|c| c.name.clone())
                    .unwrap_or_default(),
            })
            .collect())
    }

    fn create(&self, record: &Record, user: &UserInfo) -> Res<ApiResponse> {
        let author = self.author(user);
        lock(&self.store)
            .create(record, &author)
            .map_err(|e| store_error(&e))?;
        self.request_sync();
        Ok(ApiResponse::Created { id: record.id() })
    }

    fn create_patrol(
        &self,
        kind: PatrolKind,
        grid: &str,
        theme: Option<String>,
    ) -> Res<ApiResponse> {
        let user = self.user()?;
        let territory = Territory::chengyang()
            .path_of(grid)
            .filter(|p| p.grid == grid)
            .ok_or_else(|| invalid_field("territory.grid", Rule::UnknownGrid))?;
        let now = lock(&self.store).now();
        let me = UserRef::new(user.id.clone(), user.name.clone());
        let patrol = Patrol {
            id: RecordId::new_v7(),
            territory,
            created_by: me.clone(),
            created_at: now,
            kind,
            theme: theme.map(|t| t.trim().to_owned()).filter(|t| !t.is_empty()),
            worker: me,
            started_at: now,
            checklist: checklist_template(kind)
                .iter()
                .map(|(id, zh, _)| ChecklistItem {
                    id: (*id).to_owned(),
                    label: (*zh).to_owned(),
                    done: false,
                })
                .collect(),
            ..Patrol::default()
        };
        self.create(&Record::Patrol(patrol), &user)
    }

    /// Edits a record; `wake` asks for a sync after the save.
    fn edit(
        &self,
        id: RecordId,
        wake: bool,
        edit: impl FnOnce(&mut Record) -> Res<()>,
    ) -> Res<ApiResponse> {
        let user = self.user()?;
        let author = self.author(&user);
        lock(&self.store)
            .update(&id.to_string(), &author, edit)
            .map_err(|e| store_error(&e))??;
        if wake {
            self.request_sync();
        }
        Ok(ApiResponse::Done)
    }

    fn edit_patrol(
        &self,
        id: RecordId,
        edit: impl FnOnce(&mut Patrol) -> Res<()>,
    ) -> Res<ApiResponse> {
        self.edit(id, true, |r| match r {
            Record::Patrol(p) => edit(p),
            _ => Err(bad_kind()),
        })
    }

    fn raised_event(&self, user: &UserInfo, kind: CaseEventKind, note: String) -> Res<CaseEvent> {
        let at = lock(&self.store).next_hlc().map_err(|e| store_error(&e))?;
        Ok(CaseEvent {
            id: uuid::Uuid::now_v7().to_string(),
            at,
            by: UserRef::new(user.id.clone(), user.name.clone()),
            role: user.role,
            kind,
            note,
        })
    }

    fn create_case(&self, new: &NewCase) -> Res<ApiResponse> {
        let user = self.user()?;
        if !user
            .role
            .may_take(gridwork_schema::CaseAction::Raise, Default::default())
        {
            return Err(not_permitted(&user, gridwork_schema::CaseAction::Raise));
        }
        let event = self.raised_event(&user, CaseEventKind::Raised, String::new())?;
        let now = lock(&self.store).now();
        let by = UserRef::new(user.id.clone(), user.name.clone());
        let case = new.to_case(RecordId::new_v7(), by, now, event);
        self.create(&Record::Case(case), &user)
    }

    fn raise_from_finding(&self, patrol_id: RecordId, finding: &str) -> Res<ApiResponse> {
        let patrol = match lock(&self.store).get(&patrol_id.to_string()) {
            Ok(Record::Patrol(p)) => p,
            Ok(_) => return Err(bad_kind()),
            Err(e) => return Err(store_error(&e)),
        };
        let f = patrol
            .findings
            .iter()
            .find(|f| f.id == finding)
            .ok_or_else(bad_item)?;
        if let Some(case) = f.case_id {
            return Ok(ApiResponse::Created { id: case });
        }
        let title: String = f.text.chars().take(40).collect();
        let new = NewCase {
            kind: CaseKind::Hazard,
            category: Category::Other,
            risk: RiskLevel::Low,
            title,
            description: f.text.clone(),
            parties: Vec::new(),
            persons_involved: 1,
            grid: patrol.territory.grid.clone(),
            location: patrol.location,
            from_patrol: Some(patrol_id),
        };
        let created = self.create_case(&new)?;
        let ApiResponse::Created { id: case_id } = created else {
            return Ok(created);
        };
        self.edit_patrol(patrol_id, |p| {
            if let Some(f) = p.findings.iter_mut().find(|f| f.id == finding) {
                f.case_id = Some(case_id);
            }
            Ok(())
        })?;
        Ok(ApiResponse::Created { id: case_id })
    }

    fn add_case_event(&self, id: RecordId, kind: CaseEventKind, note: String) -> Res<ApiResponse> {
        let user = self.user()?;
        let action = kind.action();
        let level = kind.named_level().unwrap_or_default();
        if !user.role.may_take(action, level) {
            return Err(not_permitted(&user, action));
        }
        let event = self.raised_event(&user, kind, note.trim().to_owned())?;
        self.edit(id, true, |r| match r {
            Record::Case(c) => {
                c.events.push(event);
                Ok(())
            }
            _ => Err(bad_kind()),
        })
    }

    fn set_field(&self, id: RecordId, field: &str, value: &Value) -> Res<ApiResponse> {
        let user = self.user()?;
        let author = self.author(&user);
        let path = FieldPath::from_str(field).map_err(|_| bad_field())?;
        lock(&self.store)
            .set_field(&id.to_string(), &path, value, &author)
            .map_err(|e| store_error(&e))?;
        self.request_sync();
        Ok(ApiResponse::Done)
    }

    fn conflicts(&self) -> Res<Vec<ConflictView>> {
        let all = lock(&self.store)
            .all_conflicts()
            .map_err(|e| store_error(&e))?;
        Ok(all
            .into_iter()
            .flat_map(|(row, conflicts)| {
                conflicts.into_iter().map(move |c| ConflictView {
                    id: row.summary.id.clone(),
                    kind: row.summary.kind.clone(),
                    title: row.summary.title.clone(),
                    field: c.path.to_string(),
                    values: c
                        .values
                        .into_iter()
                        .map(|v| ConflictChoice {
                            value: v.value,
                            by: UserRef::new(v.by.user, v.by.name),
                            device: v.by.device,
                            at_ms: v.at_ms,
                        })
                        .collect(),
                })
            })
            .collect())
    }

    fn history(&self, id: RecordId, at: Option<DateTime<Utc>>) -> Res<HistoryView> {
        let mut store = lock(&self.store);
        let key = id.to_string();
        let entries = store
            .history(&key)
            .map_err(|e| store_error(&e))?
            .into_iter()
            .map(|h| HistoryItem {
                change: h.change,
                by: UserRef::new(h.by.user, h.by.name),
                device: h.by.device,
                at_ms: h.at_ms,
                what: h.what,
            })
            .collect();
        let as_of = match at {
            Some(at) => Some(store.as_of(&key, at).map_err(|e| store_error(&e))?),
            None => None,
        };
        Ok(HistoryView { entries, as_of })
    }

    fn save_draft(&self, id: Option<RecordId>, form: &str, data: Value) -> Res<ApiResponse> {
        if let Some(id) = id {
            self.edit(id, false, |r| match r {
                Record::Draft(d) => {
                    d.data = data;
                    Ok(())
                }
                _ => Err(bad_kind()),
            })?;
            return Ok(ApiResponse::Created { id });
        }
        let user = self.user()?;
        let author = self.author(&user);
        let mut store = lock(&self.store);
        let draft = Draft {
            id: RecordId::new_v7(),
            territory: path_of_code(&user.scope),
            created_by: UserRef::new(user.id.clone(), user.name.clone()),
            created_at: store.now(),
            form: form.to_owned(),
            data,
        };
        store
            .create(&Record::Draft(draft.clone()), &author)
            .map_err(|e| store_error(&e))?;
        Ok(ApiResponse::Created { id: draft.id })
    }

    fn draft(&self, form: &str) -> Res<Option<Draft>> {
        let user = self.user()?;
        let rows = self.list(&RecordFilter {
            kind: Some("draft".into()),
            limit: Some(100),
            ..RecordFilter::default()
        })?;
        let mut store = lock(&self.store);
        Ok(rows.iter().find_map(|r| match store.get(&r.id) {
            Ok(Record::Draft(d))
                if d.form == form && d.created_by.id == user.id && !d.data.is_null() =>
            {
                Some(d)
            }
            _ => None,
        }))
    }
}

impl App {
    /// The report over this device's records for `period` within `scope` (default: the
    /// user's scope), which must lie within the user's scope.
    fn report(&self, period: &str, scope: Option<&str>) -> Res<Report> {
        let user = self.user()?;
        let parsed: Period = period.trim().parse().map_err(|_| bad_period(period))?;
        let scope = scope
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .unwrap_or(&user.scope);
        check_report_scope(scope, &user)?;
        let params = ReportParams::new(parsed).within(scope);
        lock(&self.store)
            .report(&params)
            .map_err(|e| report_error(&e, period, scope))
    }

    /// The records behind a figure, oldest first.
    fn report_records(&self, query: &RecordQuery) -> Res<Vec<RecordRow>> {
        let user = self.user()?;
        check_report_scope(&query.within, &user)?;
        let store = lock(&self.store);
        let today = store.today();
        let ids = store
            .report_records(query)
            .map_err(|e| report_error(&e, &query.from.to_string(), &query.within))?;
        let mut rows = Vec::with_capacity(ids.len());
        for id in ids {
            match store.row(&id) {
                Ok(r) => rows.push(row_view(r, today)),
                // Facts and row are written together; a missing row is a record being wiped.
                Err(StoreError::NotFound(_)) => {}
                Err(e) => return Err(store_error(&e)),
            }
        }
        rows.sort_by(|a, b| a.created_at.cmp(&b.created_at).then(a.id.cmp(&b.id)));
        Ok(rows)
    }
}

/// Fails unless `scope` is a territory unit (or zone) within the user's scope.
fn check_report_scope(scope: &str, user: &UserInfo) -> Res<()> {
    let t = Territory::chengyang();
    if !t.contains(scope) {
        return Err(unknown_scope(scope));
    }
    let inside = if scope.starts_with('Z') {
        // Zones cut across streets: only a district-wide user sees a whole zone.
        t.get(&user.scope)
            .is_some_and(|u| u.level == gridwork_schema::territory::UnitLevel::District)
    } else {
        is_within(scope, &user.scope)
    };
    if inside {
        Ok(())
    } else {
        Err(ApiError::new(
            ErrorCode::NotPermitted,
            format!("统计范围 {scope} 超出您的辖区"),
            format!("The scope {scope} lies outside your territory"),
        ))
    }
}

fn bad_period(period: &str) -> ApiError {
    ApiError::new(
        ErrorCode::BadRequest,
        format!("统计期间“{period}”无法识别，应为 年-月（如 2026-11）或 起止日期"),
        format!("The period \"{period}\" is not valid: use a month (2026-11) or a range of days"),
    )
}

fn unknown_scope(scope: &str) -> ApiError {
    ApiError::new(
        ErrorCode::BadRequest,
        format!("统计范围“{scope}”不是本区的街道、社区、网格或片区"),
        format!("The scope \"{scope}\" is no street, community, grid or zone of the district"),
    )
}

fn report_error(e: &ReportError, period: &str, scope: &str) -> ApiError {
    match e {
        ReportError::BadPeriod(_) => bad_period(period),
        ReportError::UnknownScope(_) => unknown_scope(scope),
        other => {
            tracing::warn!(error = %other, "report failed");
            ApiError::new(
                ErrorCode::Internal,
                "本机统计出错",
                "The device could not compute the report",
            )
        }
    }
}

fn row_view(r: store::RecordRow, today: chrono::NaiveDate) -> RecordRow {
    RecordRow {
        status: crate::summary::status_on(
            &r.summary.kind,
            &r.summary.title,
            &r.summary.status,
            today,
        ),
        id: r.summary.id,
        kind: r.summary.kind,
        title: r.summary.title,
        level: r.summary.level,
        territory: r.summary.territory,
        created_at: r.summary.created_at,
        updated_ms: r.updated_ms,
        conflicts: r.conflicts,
        pending: r.pending,
        refused: r.refused.map(|x| RefusalView {
            code: x.code,
            message: x.message,
        }),
    }
}

fn not_logged_in() -> ApiError {
    ApiError::new(ErrorCode::NotLoggedIn, "尚未登录", "Not signed in")
}

fn bad_kind() -> ApiError {
    ApiError::new(
        ErrorCode::BadRequest,
        "记录类型不符",
        "The record is of another kind",
    )
}

fn bad_item() -> ApiError {
    ApiError::new(ErrorCode::NotFound, "找不到该条目", "No such item")
}

fn bad_field() -> ApiError {
    ApiError::new(ErrorCode::BadRequest, "字段路径无效", "Not a field path")
}

fn invalid_field(field: &str, rule: Rule) -> ApiError {
    ApiError::invalid(&ValidationErrors(vec![ValidationError {
        field: field.into(),
        rule,
    }]))
}

fn not_permitted(user: &UserInfo, action: gridwork_schema::CaseAction) -> ApiError {
    let rule = Rule::NotPermitted {
        role: user.role,
        action,
    };
    ApiError::new(
        ErrorCode::NotPermitted,
        rule.message(Lang::ZhCn),
        rule.message(Lang::En),
    )
}

/// A store error for the UI; never carries record contents.
fn store_error(e: &StoreError) -> ApiError {
    match e {
        StoreError::Invalid(errors) => ApiError::invalid(errors),
        StoreError::NotFound(_) => ApiError::new(
            ErrorCode::NotFound,
            "找不到该记录",
            "No such record on this device",
        ),
        StoreError::Immutable(what) => ApiError::new(
            ErrorCode::BadRequest,
            "该字段不能修改",
            format!("an edit may not change a record's {what}"),
        ),
        StoreError::Doc(crate::doc::DocError::NoSuchField(_)) => bad_field(),
        other => {
            tracing::warn!(error = %other, "store error");
            ApiError::new(
                ErrorCode::Internal,
                "本机存储出错",
                "The device's storage failed",
            )
        }
    }
}

fn sync_error(e: &SyncError) -> ApiError {
    match e {
        SyncError::NotLoggedIn => not_logged_in(),
        SyncError::Unauthorized(_) => ApiError::new(
            ErrorCode::Unauthorized,
            "服务器拒绝了登录凭据，请重新登录",
            "The server refused the sign-in; sign in again",
        ),
        SyncError::UpdateRequired(_) => ApiError::new(
            ErrorCode::UpdateRequired,
            "应用版本过旧，请更新",
            "This app version is too old; please update",
        ),
        SyncError::Unreachable(_) => ApiError::new(
            ErrorCode::Unreachable,
            "无法连接服务器，数据已保存在本机",
            "Cannot reach the server; your work is kept on this device",
        ),
        SyncError::Server { status, code, .. } => ApiError::new(
            ErrorCode::Internal,
            format!("服务器出错（{status} {code}）"),
            format!("The server answered {status} ({code})"),
        ),
        SyncError::Protocol(_) => ApiError::new(
            ErrorCode::Internal,
            "服务器的应答无法识别",
            "The server's answer was not understood",
        ),
        SyncError::Store(s) => store_error(s),
    }
}
