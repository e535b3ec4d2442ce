//! `login`, `sync` and `status`: the device side of sync, over `gridwork_core::sync`.

use std::io::BufRead as _;
use std::sync::Mutex;

use anyhow::{Context as _, Result};
use gridwork_core::store::Store;
use gridwork_core::sync::{self, Progress};
use gridwork_schema::{Label as _, User};

use crate::ctx::{LOCAL_USER_KEY, lang, tr};
use crate::output::{self, out};

fn runtime() -> Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?)
}

/// Signs in; the server's account becomes the local user edits are authored as.
pub fn login(
    store: Store,
    server: &str,
    user: &str,
    password: Option<String>,
    as_json: bool,
) -> Result<()> {
    let password = match password {
        Some(p) => p,
        None => {
            eprint!("{}", tr("密码：", "password: "));
            let mut line = String::new();
            std::io::stdin()
                .lock()
                .read_line(&mut line)
                .context(tr("无法读取密码", "cannot read the password"))?;
            line.trim_end_matches(['\r', '\n']).to_owned()
        }
    };
    let store = Mutex::new(store);
    let session = runtime()?.block_on(sync::login(&store, server, user, &password))?;
    let store = store
        .into_inner()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let u = &session.user;
    let local = User {
        id: u.id.clone(),
        name: u.name.clone(),
        role: u.role,
        scope: u.scope.clone(),
        department: u.department.clone(),
    };
    store.set_meta(LOCAL_USER_KEY, Some(&serde_json::to_string(&local)?))?;
    if as_json {
        return output::json(&serde_json::json!({
            "server": session.server,
            "server_id": session.server_id,
            "user": session.user,
        }));
    }
    out!(
        "{} {} — {} ({}, {}) {}",
        tr("已登录", "signed in to"),
        session.server,
        u.name,
        u.login,
        u.role.label(lang()),
        u.scope
    );
    Ok(())
}

/// One sync session, with progress on stderr.
pub fn sync_now(store: Store, as_json: bool) -> Result<()> {
    let store = Mutex::new(store);
    let mut progress = |p: &Progress| {
        if !as_json {
            eprintln!(
                "{} {}: {} ↑ {} ↓ ({} / {} bytes)",
                tr("同步", "sync"),
                p.phase,
                p.pushed,
                p.pulled,
                p.bytes_up,
                p.bytes_down
            );
        }
    };
    let report = runtime()?.block_on(sync::sync_now(&store, &mut progress))?;
    if as_json {
        return output::json(&report);
    }
    out!(
        "{}",
        tr(
            &format!(
                "同步完成：推送 {} 条，收到 {} 条，被拒绝 {} 条，上传附件 {} 个",
                report.pushed,
                report.pulled,
                report.refused.len(),
                report.attachments_up
            ),
            &format!(
                "sync done: {} pushed, {} received, {} refused, {} attachment(s) uploaded",
                report.pushed,
                report.pulled,
                report.refused.len(),
                report.attachments_up
            ),
        )
    );
    for (id, r) in &report.refused {
        out!("  {id}: {} ({})", r.message, r.code);
    }
    Ok(())
}

/// The device's sync state.
pub fn status(store: &Store, as_json: bool) -> Result<()> {
    let s = sync::status(store)?;
    if as_json {
        return output::json(&s);
    }
    out!("{}: {}", tr("设备", "device"), s.device_id);
    match (&s.user, &s.server) {
        (Some(u), Some(server)) => out!(
            "{}: {} ({}, {}) @ {server}",
            tr("已登录", "signed in"),
            u.name,
            u.login,
            u.role.label(lang())
        ),
        _ => out!("{}", tr("未登录服务器", "not signed in to a server")),
    }
    out!("{}: {}", tr("待同步记录", "records pending"), s.pending);
    out!(
        "{}: {}",
        tr("上次同步", "last sync"),
        s.last_sync.as_deref().unwrap_or("—")
    );
    for (id, r) in &s.refused {
        out!(
            "{}: {id} {} ({})",
            tr("被拒绝", "refused"),
            r.message,
            r.code
        );
    }
    Ok(())
}
