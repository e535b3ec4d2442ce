//! Shared UI state: language, device status, navigation, messages.

use gridwork_schema::api::{ApiError, ApiRequest, ApiResponse, Message, StatusView};
use gridwork_schema::{Lang, RecordId};
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::transport;

/// The screens.
#[derive(Debug, Clone, PartialEq)]
pub enum Screen {
    /// Home for the user's role.
    Home,
    /// Start a patrol.
    PatrolStart,
    /// A patrol (going on or finished).
    Patrol(RecordId),
    /// Register a case.
    CaseNew,
    /// A case with its timeline and actions.
    Case(RecordId),
    /// Any other record.
    Record(RecordId),
    /// Unsettled conflicts.
    Conflicts,
    /// A record's history.
    History(RecordId),
    /// Search and lists.
    Search,
    /// Settings.
    Settings,
    /// Start a mediation (from a case, when given).
    MediationNew(Option<RecordId>),
    /// A mediation with its sessions and outcome.
    Mediation(RecordId),
    /// The leaders' reception schedule.
    Receptions,
    /// Schedule a reception session.
    ReceptionNew,
    /// A reception session with its visits.
    Reception(RecordId),
    /// Register a petition.
    PetitionNew,
    /// A petition with its 1-2-3-4 steps.
    Petition(RecordId),
    /// The supervisors' dashboard, drilled down below the user's scope through these units.
    Report(Vec<crate::report::Crumb>),
    /// The records behind a dashboard figure.
    ReportRecords(crate::report::Figure),
}

impl Screen {
    /// The title bar text.
    pub fn title(&self, lang: Lang) -> &'static str {
        let (zh, en) = match self {
            Self::Home => ("网格通", "Gridwork"),
            Self::PatrolStart => ("开始排查", "Start a patrol"),
            Self::Patrol(_) => ("排查记录", "Patrol"),
            Self::CaseNew => ("登记事项", "New case"),
            Self::Case(_) => ("事项详情", "Case"),
            Self::Record(_) => ("记录详情", "Record"),
            Self::Conflicts => ("编辑冲突", "Conflicts"),
            Self::History(_) => ("修改历史", "History"),
            Self::Search => ("查询", "Search"),
            Self::Settings => ("设置", "Settings"),
            Self::MediationNew(_) => ("登记调解", "New mediation"),
            Self::Mediation(_) => ("人民调解", "Mediation"),
            Self::Receptions => ("公开接访", "Public reception"),
            Self::ReceptionNew => ("安排接访", "New reception session"),
            Self::Reception(_) => ("接访记录", "Reception session"),
            Self::PetitionNew => ("登记信访", "New petition"),
            Self::Petition(_) => ("信访详情", "Petition"),
            Self::Report(_) => ("统计分析", "Dashboard"),
            Self::ReportRecords(_) => ("统计明细", "Records behind a figure"),
        };
        match lang {
            Lang::ZhCn => zh,
            Lang::En => en,
        }
    }

    /// Which tab the screen belongs to.
    pub fn tab_name(&self) -> &'static str {
        match self {
            Self::Home | Self::CaseNew => "home",
            Self::PatrolStart | Self::Patrol(_) => "patrol",
            Self::Search | Self::Case(_) | Self::Record(_) | Self::History(_) => "search",
            Self::Conflicts => "conflicts",
            Self::Settings => "settings",
            Self::MediationNew(_) | Self::Receptions | Self::ReceptionNew | Self::PetitionNew => {
                "home"
            }
            Self::Mediation(_) | Self::Reception(_) | Self::Petition(_) => "search",
            Self::Report(_) | Self::ReportRecords(_) => "home",
        }
    }
}

/// The UI's shared state (all signals, so `Copy`).
#[derive(Debug, Clone, Copy)]
pub struct Ctx {
    /// UI language.
    pub lang: RwSignal<Lang>,
    /// Device and sync state, refreshed every 1.5 s.
    pub status: RwSignal<Option<StatusView>>,
    /// The current screen.
    pub screen: RwSignal<Screen>,
    /// Screens to go back to.
    pub stack: RwSignal<Vec<Screen>>,
    /// A message shown briefly: (is error, text).
    pub toast: RwSignal<Option<(bool, Message)>>,
    /// Bumped after every change, so screens reload what they show.
    pub version: RwSignal<u64>,
    lang_set: RwSignal<bool>,
}

/// The context of the current component tree.
pub fn use_ctx() -> Ctx {
    expect_context::<Ctx>()
}

impl Ctx {
    /// Fresh state: Chinese, home screen.
    pub fn new() -> Self {
        Self {
            lang: RwSignal::new(Lang::ZhCn),
            status: RwSignal::new(None),
            screen: RwSignal::new(Screen::Home),
            stack: RwSignal::new(Vec::new()),
            toast: RwSignal::new(None),
            version: RwSignal::new(0),
            lang_set: RwSignal::new(false),
        }
    }

    /// `zh` or `en` by the current language (reactive).
    pub fn t(&self, zh: &'static str, en: &'static str) -> &'static str {
        match self.lang.get() {
            Lang::ZhCn => zh,
            Lang::En => en,
        }
    }

    /// A reactive text for views.
    pub fn tr(self, zh: &'static str, en: &'static str) -> impl Fn() -> &'static str + Copy {
        move || self.t(zh, en)
    }

    /// A two-language message in the current language.
    pub fn msg(&self, m: &Message) -> String {
        m.get(self.lang.get()).to_owned()
    }

    /// Opens a screen, remembering the current one for "back".
    pub fn go(&self, screen: Screen) {
        let current = self.screen.get_untracked();
        if current != screen {
            self.stack.update(|s| s.push(current));
            self.screen.set(screen);
        }
    }

    /// Opens a tab's screen and forgets the back stack.
    pub fn go_tab(&self, screen: Screen) {
        self.stack.set(Vec::new());
        self.screen.set(screen);
    }

    /// Replaces the current screen (after a form is submitted).
    pub fn replace(&self, screen: Screen) {
        self.screen.set(screen);
    }

    /// Whether there is a screen to go back to.
    pub fn can_go_back(&self) -> bool {
        self.stack.with(|s| !s.is_empty())
    }

    /// Goes back one screen.
    pub fn back(&self) {
        let mut prev = None;
        self.stack.update(|s| prev = s.pop());
        self.screen.set(prev.unwrap_or(Screen::Home));
    }

    /// Shows an error.
    pub fn error(&self, e: &ApiError) {
        let mut m = e.message.clone();
        if let Some(first) = e.fields.first() {
            m.zh = format!(
                "{}：{}",
                crate::widgets::field_label(&first.field, Lang::ZhCn),
                first.message.zh
            );
            m.en = format!(
                "{}: {}",
                crate::widgets::field_label(&first.field, Lang::En),
                first.message.en
            );
        }
        self.toast.set(Some((true, m)));
    }

    /// Shows a short confirmation.
    pub fn info(&self, zh: &str, en: &str) {
        self.toast.set(Some((false, Message::new(zh, en))));
    }

    /// Tells every screen to reload.
    pub fn changed(&self) {
        self.version.update(|v| *v += 1);
        self.refresh_status();
    }

    /// Reloads the device status.
    pub fn refresh_status(self) {
        spawn_local(async move {
            if let Ok(ApiResponse::Status(s)) = transport::call(&ApiRequest::Status).await {
                if !self.lang_set.get_untracked() {
                    self.lang.set(s.lang);
                    self.lang_set.set(true);
                }
                self.status.set(Some(s));
            }
        });
    }

    /// Sends a request; on success runs `ok`, on failure shows the error.
    pub fn call(self, request: ApiRequest, ok: impl FnOnce(ApiResponse) + 'static) {
        spawn_local(async move {
            match transport::call(&request).await {
                Ok(r) => ok(r),
                Err(e) => self.error(&e),
            }
        });
    }

    /// Sends a request; runs `done` with the outcome (errors are not shown).
    pub fn call_then(
        self,
        request: ApiRequest,
        done: impl FnOnce(Result<ApiResponse, ApiError>) + 'static,
    ) {
        spawn_local(async move { done(transport::call(&request).await) });
    }

    /// The signed-in user's role, if any.
    pub fn role(&self) -> Option<gridwork_schema::Role> {
        self.status
            .with(|s| s.as_ref().and_then(|s| s.user.as_ref().map(|u| u.role)))
    }

    /// Marks the language as chosen by the user (so status refreshes don't override it).
    pub fn set_lang(&self, lang: Lang) {
        self.lang_set.set(true);
        self.lang.set(lang);
        self.call(ApiRequest::SetLang { lang }, |_| {});
    }
}

impl Default for Ctx {
    fn default() -> Self {
        Self::new()
    }
}
