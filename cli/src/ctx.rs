//! The open device: store, local user, output language; and the record-editing helpers.

use std::path::Path;
use std::sync::OnceLock;

use anyhow::{Context as _, Result, anyhow, bail};
use gridwork_core::doc::Author;
use gridwork_core::store::{RecordRow, Store, StoreError};
use gridwork_schema::territory::DISTRICT_CODE;
use gridwork_schema::{
    Case, Lang, Mediation, Patrol, Petition, ReceptionSession, Record, RecordKind, Role, User,
    UserRef,
};

/// The meta key holding the local user (JSON of [`User`]).
pub const LOCAL_USER_KEY: &str = "local_user";

static LANG: OnceLock<Lang> = OnceLock::new();

/// Sets the output language (once, at start).
pub fn set_lang(lang: Lang) {
    let _ = LANG.set(lang);
}

/// The output language.
pub fn lang() -> Lang {
    LANG.get().copied().unwrap_or_default()
}

/// The Chinese or English text, by the output language.
pub fn tr(zh: &str, en: &str) -> String {
    match lang() {
        Lang::ZhCn => zh.to_owned(),
        Lang::En => en.to_owned(),
    }
}

/// A mistake in how the command was called (exit code 2, like clap's own usage errors).
#[derive(Debug)]
pub struct UsageError(pub String);

impl std::fmt::Display for UsageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UsageError {}

/// A usage error with a message in the output language.
pub fn usage(zh: &str, en: &str) -> anyhow::Error {
    UsageError(tr(zh, en)).into()
}

/// The user a store created without `--user` edits as.
pub fn default_user() -> User {
    User {
        id: "local".into(),
        name: "本机用户".into(),
        role: Role::Supervisor,
        scope: DISTRICT_CODE.into(),
        department: None,
    }
}

/// An open device.
#[derive(Debug)]
pub struct Ctx {
    /// The store.
    pub store: Store,
    /// Who edits are authored as.
    pub user: User,
    /// Machine output.
    pub json: bool,
}

impl Ctx {
    /// Opens the device store in `dir`.
    pub fn open(dir: &Path, json: bool) -> Result<Self> {
        let store = Store::open(dir)?;
        let user = match store.meta(LOCAL_USER_KEY)? {
            Some(s) => serde_json::from_str(&s).context(tr(
                "本机用户设置已损坏，请重新运行 init 设置用户",
                "the local user setting is damaged; run init again to set the user",
            ))?,
            None => default_user(),
        };
        Ok(Ctx { store, user, json })
    }

    /// The author of this device's edits.
    pub fn author(&self) -> Author {
        Author {
            user: self.user.id.clone(),
            name: self.user.name.clone(),
            device: self.store.identity().device_id.to_string(),
        }
    }

    /// The local user as records name them.
    pub fn user_ref(&self) -> UserRef {
        self.user.to_ref()
    }

    /// Resolves a record id given in full or as a unique prefix (at least 4 characters).
    pub fn resolve(&self, given: &str) -> Result<String> {
        let given = given.trim();
        match self.store.row(given) {
            Ok(_) => return Ok(given.to_owned()),
            Err(StoreError::NotFound(_)) => {}
            Err(e) => return Err(e.into()),
        }
        if given.len() >= 4 {
            let lower = given.to_ascii_lowercase();
            let matches: Vec<String> = self
                .store
                .ids()?
                .into_iter()
                .filter(|id| id.starts_with(&lower))
                .collect();
            match matches.len() {
                1 => return Ok(matches.into_iter().next().unwrap_or_default()),
                0 => {}
                n => bail!(tr(
                    &format!("编号 {given} 不唯一：有 {n} 条记录以它开头"),
                    &format!("id {given} is ambiguous: {n} records start with it"),
                )),
            }
        }
        Err(StoreError::NotFound(given.to_owned()).into())
    }

    /// Resolves an id and checks the record's kind.
    pub fn resolve_kind(&self, given: &str, kind: RecordKind) -> Result<String> {
        let id = self.resolve(given)?;
        let row = self.store.row(&id)?;
        let want = crate::output::snake(&kind);
        if row.summary.kind != want {
            let have = crate::output::kind_label(&row.summary.kind);
            bail!(tr(
                &format!("记录 {id} 是{have}，不是{}", kind_zh(kind)),
                &format!("record {id} is a {have}, not a {want}"),
            ));
        }
        Ok(id)
    }

    /// Edits a record of `kind` through the core (validated, stored as a difference).
    pub fn edit<T>(
        &mut self,
        id: &str,
        pick: fn(&mut Record) -> Option<&mut T>,
        edit: impl FnOnce(&mut T) -> Result<()>,
    ) -> Result<RecordRow> {
        let author = self.author();
        self.store.update(id, &author, |record| {
            let typed = pick(record).ok_or_else(|| {
                anyhow!(tr("记录类型不符", "the record is not of the expected kind"))
            })?;
            edit(typed)
        })??;
        Ok(self.store.row(id)?)
    }
}

fn kind_zh(kind: RecordKind) -> &'static str {
    use gridwork_schema::Label as _;
    kind.zh()
}

/// Picks a patrol out of a record.
pub fn as_patrol(r: &mut Record) -> Option<&mut Patrol> {
    match r {
        Record::Patrol(p) => Some(p),
        _ => None,
    }
}

/// Picks a case out of a record.
pub fn as_case(r: &mut Record) -> Option<&mut Case> {
    match r {
        Record::Case(c) => Some(c),
        _ => None,
    }
}

/// Picks a mediation out of a record.
pub fn as_mediation(r: &mut Record) -> Option<&mut Mediation> {
    match r {
        Record::Mediation(m) => Some(m),
        _ => None,
    }
}

/// Picks a reception session out of a record.
pub fn as_reception(r: &mut Record) -> Option<&mut ReceptionSession> {
    match r {
        Record::Reception(s) => Some(s),
        _ => None,
    }
}

/// Picks a petition out of a record.
pub fn as_petition(r: &mut Record) -> Option<&mut Petition> {
    match r {
        Record::Petition(p) => Some(p),
        _ => None,
    }
}
