//! `gridwork`: a headless device and a supervisor's office tool over the core.
//!
//! Thin by design: parsing and printing around `gridwork_core::store`. Every command that
//! prints a record or a list also prints it as JSON with `--json`. Errors go to stderr with
//! a non-zero exit; validation errors list every broken field (in `--lang`, Chinese by
//! default) and never echo the values, which may be residents' personal data.

mod args;
mod commands;
mod ctx;
mod output;
mod parse;
mod sync_cmd;

use std::process::ExitCode;

use clap::Parser as _;
use gridwork_core::store::StoreError;
use gridwork_core::sync::SyncError;
use gridwork_schema::Lang;

use crate::args::Cli;
use crate::ctx::{UsageError, lang, set_lang, tr};

fn main() -> ExitCode {
    let filter = tracing_subscriber::EnvFilter::try_from_env("GRIDWORK_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(filter)
        .init();
    let cli = Cli::parse();
    set_lang(cli.lang);
    match commands::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) if is_broken_pipe(&err) => ExitCode::SUCCESS,
        Err(err) => {
            report(&err);
            if err.downcast_ref::<UsageError>().is_some() {
                ExitCode::from(2)
            } else {
                ExitCode::FAILURE
            }
        }
    }
}

/// Whoever read our output stopped reading (`gridwork list | head`): not an error.
fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|e| {
        e.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

/// Prints an error to stderr: every field message for validation errors, a translated
/// sentence for the store's common errors, the message chain otherwise.
fn report(err: &anyhow::Error) {
    let prefix = tr("错误", "error");
    let sep = if lang() == Lang::ZhCn { "：" } else { ": " };
    if let Some(store_err) = err.downcast_ref::<StoreError>() {
        match store_err {
            StoreError::Invalid(errors) => {
                eprintln!(
                    "{prefix}{sep}{}",
                    tr(
                        "输入无效，未保存任何内容：",
                        "invalid input, nothing was saved:"
                    )
                );
                for m in errors.messages(lang()) {
                    eprintln!("  - {m}");
                }
                return;
            }
            StoreError::NotFound(id) => {
                eprintln!(
                    "{prefix}{sep}{}",
                    tr(
                        &format!("找不到记录 {id}"),
                        &format!("no record with id {id}")
                    )
                );
                return;
            }
            StoreError::NotInitialised(dir) => {
                eprintln!(
                    "{prefix}{sep}{}",
                    tr(
                        &format!("{dir} 中还没有设备数据库：请先运行 `gridwork --data {dir} init`"),
                        &format!(
                            "no device store in {dir}: run `gridwork --data {dir} init` first"
                        ),
                    )
                );
                return;
            }
            _ => {}
        }
    }
    if let Some(sync_err) = err.downcast_ref::<SyncError>() {
        let zh = match sync_err {
            SyncError::NotLoggedIn => Some("尚未登录服务器：请先运行 gridwork login".to_owned()),
            SyncError::Unauthorized(m) => Some(format!("服务器拒绝登录（{m}）")),
            SyncError::UpdateRequired(m) => Some(format!("应用版本过旧，请先升级（{m}）")),
            SyncError::Unreachable(m) => Some(format!("无法连接服务器（{m}），修改已保留在本机")),
            _ => None,
        };
        if let (Some(zh), Lang::ZhCn) = (zh, lang()) {
            eprintln!("{prefix}{sep}{zh}");
            return;
        }
    }
    eprintln!("{prefix}{sep}{err}");
    for cause in err.chain().skip(1) {
        eprintln!("  {}{sep}{cause}", tr("原因", "caused by"));
    }
}
