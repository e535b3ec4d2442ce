//! Commands of the mediation, reception and petition screens, and the role-specific parts of
//! the home screen. Every write goes through the store's `create` / `update` (a diff of the
//! Automerge document), never a whole-record save.

use chrono::NaiveDate;
use gridwork_schema::api::{
    ApiError, ApiResponse, ErrorCode, GridView, NewMediation, NewPetition, NewReception,
    ReceptionItem, RecordFilter, RecordRow,
};
use gridwork_schema::territory::{Territory, is_within};
use gridwork_schema::wire::UserInfo;
use gridwork_schema::{
    CaseEventKind, CaseState, Channel, Level, MediationOutcome, MediationSession, Record, RecordId,
    Role, StepMethod, UserRef, Visit,
};

use super::{App, Res, bad_kind, lock, store_error};

fn me(user: &UserInfo) -> UserRef {
    UserRef::new(user.id.clone(), user.name.clone())
}

fn new_item_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

/// Refuses a new record the server would refuse as out of the user's scope (it is neither
/// inside their territory nor names them), before anything is stored.
fn check_scope(user: &UserInfo, record: &Record) -> Res<()> {
    let s = crate::summary::summarize_record(record);
    let me = format!("user:{}", user.id);
    if crate::summary::within_scope(&s.territory, &user.scope) || s.principals.contains(&me) {
        Ok(())
    } else {
        Err(ApiError::new(
            ErrorCode::NotPermitted,
            "该记录不在您的辖区范围内，未保存",
            "This record lies outside your territory; nothing was saved",
        ))
    }
}

fn no_such_step() -> ApiError {
    ApiError::new(
        ErrorCode::NotFound,
        "这件信访没有这个步骤（只有初信初访才有“1-2-3-4”步骤）",
        "The petition has no such step (only first petitions have 1-2-3-4 steps)",
    )
}

impl App {
    pub(super) fn create_mediation(&self, new: &NewMediation) -> Res<ApiResponse> {
        let user = self.user()?;
        let mut form = new.clone();
        if let Some(case_id) = form.case {
            // Like `gridwork mediation new --case`: the body sits over the case's place, and
            // the case's parties come first.
            let case = match lock(&self.store).get(&case_id.to_string()) {
                Ok(Record::Case(c)) => c,
                Ok(_) => return Err(bad_kind()),
                Err(e) => return Err(store_error(&e)),
            };
            form.territory = case.territory.leaf().to_owned();
            let mut parties = case.parties.clone();
            for p in form.parties.drain(..) {
                if !p.name.trim().is_empty() && !parties.iter().any(|q| q.name == p.name) {
                    parties.push(p);
                }
            }
            form.parties = parties;
        } else if form.territory.trim().is_empty() {
            form.territory = user.scope.clone();
        }
        let now = lock(&self.store).now();
        let m = form.to_mediation(RecordId::new_v7(), &me(&user), now);
        let record = Record::Mediation(m.clone());
        check_scope(&user, &record)?;
        let created = self.create(&record, &user)?;
        if let Some(case_id) = m.case {
            self.link_case_to_mediation(&user, case_id, m.id)?;
        }
        Ok(created)
    }

    /// Names the mediation on the case's referral (the latest one that names none), or
    /// records the referral when the case has none and the role may make it.
    fn link_case_to_mediation(
        &self,
        user: &UserInfo,
        case_id: RecordId,
        mediation: RecordId,
    ) -> Res<()> {
        let case = match lock(&self.store).get(&case_id.to_string()) {
            Ok(Record::Case(c)) => c,
            _ => return Ok(()),
        };
        let open_referral = case.events.iter().rposition(|e| {
            matches!(
                e.kind,
                CaseEventKind::ReferredToMediation { mediation: None }
            )
        });
        if let Some(i) = open_referral {
            self.edit(case_id, true, |r| {
                if let Record::Case(c) = r
                    && let Some(e) = c.events.get_mut(i)
                {
                    e.kind = CaseEventKind::ReferredToMediation {
                        mediation: Some(mediation),
                    };
                }
                Ok(())
            })?;
        } else if !CaseState::derive(&case.events).in_mediation
            && user.role.may_take(
                gridwork_schema::CaseAction::ReferToMediation,
                Level::Community,
            )
        {
            self.add_case_event(
                case_id,
                CaseEventKind::ReferredToMediation {
                    mediation: Some(mediation),
                },
                String::new(),
            )?;
        }
        Ok(())
    }

    pub(super) fn add_mediation_session(
        &self,
        id: RecordId,
        date: NaiveDate,
        place: String,
        attendees: Vec<String>,
        notes: String,
    ) -> Res<ApiResponse> {
        let attendees = attendees
            .into_iter()
            .map(|a| a.trim().to_owned())
            .filter(|a| !a.is_empty())
            .collect();
        self.edit(id, true, |r| match r {
            Record::Mediation(m) => {
                m.sessions.push(MediationSession {
                    id: new_item_id(),
                    date,
                    place: place.trim().to_owned(),
                    attendees,
                    notes,
                });
                Ok(())
            }
            _ => Err(bad_kind()),
        })
    }

    pub(super) fn set_mediation_outcome(
        &self,
        id: RecordId,
        outcome: MediationOutcome,
        agreement: String,
        handoff: Option<Channel>,
    ) -> Res<ApiResponse> {
        self.edit(id, true, |r| match r {
            Record::Mediation(m) => {
                m.outcome = Some(outcome);
                m.agreement = agreement;
                m.handoff = handoff;
                Ok(())
            }
            _ => Err(bad_kind()),
        })
    }

    pub(super) fn create_reception(&self, new: &NewReception) -> Res<ApiResponse> {
        let user = self.user()?;
        let now = lock(&self.store).now();
        let s = Record::Reception(new.to_reception(RecordId::new_v7(), &me(&user), now));
        check_scope(&user, &s)?;
        self.create(&s, &user)
    }

    pub(super) fn add_visit(
        &self,
        id: RecordId,
        persons: u32,
        summary: String,
        case: Option<RecordId>,
    ) -> Res<ApiResponse> {
        self.edit(id, true, |r| match r {
            Record::Reception(s) => {
                s.visits.push(Visit {
                    id: new_item_id(),
                    persons,
                    summary,
                    case,
                });
                Ok(())
            }
            _ => Err(bad_kind()),
        })
    }

    pub(super) fn receptions(&self) -> Res<Vec<ReceptionItem>> {
        let rows = self.list(&RecordFilter {
            kind: Some("reception".into()),
            limit: Some(1000),
            ..RecordFilter::default()
        })?;
        let mut store = lock(&self.store);
        let mut out: Vec<ReceptionItem> = rows
            .into_iter()
            .filter_map(|row| match store.get(&row.id) {
                Ok(Record::Reception(s)) => Some(ReceptionItem {
                    date: s.date,
                    cases: s.cases(),
                    person_visits: s.person_visits(),
                    leader: s.leader,
                    level: s.level,
                    site: s.site,
                    named_by_public: s.named_by_public,
                    row,
                }),
                _ => None,
            })
            .collect();
        out.sort_by(|a, b| (b.date, &b.row.id).cmp(&(a.date, &a.row.id)));
        Ok(out)
    }

    pub(super) fn create_petition(&self, new: &NewPetition) -> Res<ApiResponse> {
        let user = self.user()?;
        let mut form = new.clone();
        if form.territory.trim().is_empty() {
            form.territory = user.scope.clone();
        }
        let now = lock(&self.store).now();
        let p = Record::Petition(form.to_petition(RecordId::new_v7(), &me(&user), now));
        check_scope(&user, &p)?;
        self.create(&p, &user)
    }

    pub(super) fn mark_petition_step(
        &self,
        id: RecordId,
        method: StepMethod,
        seq: u8,
        done_on: NaiveDate,
        note: String,
    ) -> Res<ApiResponse> {
        self.edit(id, true, |r| match r {
            Record::Petition(p) => {
                let step = p
                    .steps
                    .iter_mut()
                    .find(|s| s.method == method && s.seq == seq)
                    .ok_or_else(no_such_step)?;
                step.done_on = Some(done_on);
                step.note = note.trim().to_owned();
                Ok(())
            }
            _ => Err(bad_kind()),
        })
    }

    pub(super) fn streets(&self) -> Res<Vec<GridView>> {
        let user = self.user()?;
        let t = Territory::chengyang();
        Ok(t.streets()
            .filter(|s| is_within(&s.code, &user.scope) || is_within(&user.scope, &s.code))
            .map(|s| GridView {
                code: s.code.clone(),
                name: s.name.clone(),
                community: String::new(),
            })
            .collect())
    }

    /// The role-specific lists of the home screen:
    /// (my mediations, my receptions, my cases, escalated cases, cases to report in on).
    #[allow(clippy::type_complexity)]
    pub(super) fn role_sections(
        &self,
        open_cases: &[RecordRow],
        today: NaiveDate,
    ) -> Res<(
        Vec<RecordRow>,
        Vec<RecordRow>,
        Vec<RecordRow>,
        Vec<RecordRow>,
        Vec<RecordRow>,
    )> {
        let user = match self.user() {
            Ok(u) => u,
            Err(_) => return Ok(Default::default()),
        };
        let mediations = self.list(&RecordFilter {
            kind: Some("mediation".into()),
            status: Some("ongoing".into()),
            limit: Some(500),
            ..RecordFilter::default()
        })?;
        let mut receptions = self.receptions()?;
        receptions.retain(|r| r.leader.id == user.id && r.date >= today);
        receptions.sort_by_key(|r| r.date);
        let my_receptions = receptions.into_iter().map(|r| r.row).collect();
        let mut store = lock(&self.store);
        let my_mediations = mediations
            .into_iter()
            .filter(|r| match store.get(&r.id) {
                Ok(Record::Mediation(m)) => {
                    matches!(user.role, Role::Supervisor | Role::Admin)
                        || m.mediator.id == user.id
                        || m.legal_worker.as_ref().is_some_and(|l| l.id == user.id)
                        || m.created_by.id == user.id
                }
                _ => false,
            })
            .collect();
        let department = user.department.clone().unwrap_or_default();
        let (mut my_cases, mut escalated, mut report_in) = (Vec::new(), Vec::new(), Vec::new());
        for row in open_cases {
            let Ok(Record::Case(c)) = store.get(&row.id) else {
                continue;
            };
            let state = CaseState::derive(&c.events);
            if state.leader.as_deref() == Some(user.name.as_str()) {
                my_cases.push(row.clone());
            }
            if state.whistle || state.level >= Level::Street {
                escalated.push(row.clone());
            }
            let reported = c.events.iter().any(|e| {
                matches!(&e.kind, CaseEventKind::DepartmentReported { department: d, .. } if *d == department)
            });
            if state.whistle && !reported {
                report_in.push(row.clone());
            }
        }
        Ok((my_mediations, my_receptions, my_cases, escalated, report_in))
    }
}
