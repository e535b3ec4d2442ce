//! First run (server and login) and settings.

use gridwork_schema::Lang;
use gridwork_schema::api::{ApiRequest, ApiResponse};
use leptos::prelude::*;

use crate::ctx::{Screen, use_ctx};
use crate::widgets::label as lbl;

/// The language switch: two big buttons.
#[component]
pub fn LangSwitch() -> impl IntoView {
    let ctx = use_ctx();
    let button = move |lang: Lang, text: &'static str, id: &'static str| {
        view! {
            <button
                id=id
                class="seg"
                class:selected=move || ctx.lang.get() == lang
                aria-pressed=move || (ctx.lang.get() == lang).to_string()
                on:click=move |_| ctx.set_lang(lang)
            >
                {text}
            </button>
        }
    };
    view! {
        <div class="segmented" role="group">
            {button(Lang::ZhCn, "中文", "lang-zh")}
            {button(Lang::En, "English", "lang-en")}
        </div>
    }
}

/// First run: server address and login; the device registers with the server.
#[component]
pub fn Login() -> impl IntoView {
    let ctx = use_ctx();
    let initial = ctx.status.with_untracked(|s| {
        s.as_ref()
            .map(|s| s.server.clone().unwrap_or_else(|| s.default_server.clone()))
            .unwrap_or_default()
    });
    let server = RwSignal::new(initial);
    let user = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let busy = RwSignal::new(false);
    let tried = RwSignal::new(false);
    let missing = move |v: RwSignal<String>| tried.get() && v.with(|s| s.trim().is_empty());
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        tried.set(true);
        if server.with(|s| s.trim().is_empty()) || user.with(|s| s.trim().is_empty()) {
            return;
        }
        busy.set(true);
        let request = ApiRequest::Login {
            server: server.get(),
            user: user.get(),
            password: password.get(),
        };
        ctx.call_then(request, move |r| {
            busy.set(false);
            match r {
                Ok(ApiResponse::Status(s)) => {
                    ctx.status.set(Some(s));
                    ctx.go_tab(Screen::Home);
                    ctx.changed();
                }
                Ok(_) => ctx.refresh_status(),
                Err(e) => ctx.error(&e),
            }
        });
    };
    view! {
        <div class="login">
            <div class="brand">
                <div class="logo" aria-hidden="true">"网"</div>
                <h1>{ctx.tr("网格通", "Gridwork")}</h1>
                <p class="sub">{ctx.tr("城阳区网格化治理 · 离线可用", "Chengyang grid governance · works offline")}</p>
            </div>
            <form on:submit=submit class="card form" id="login-form">
                <label for="login-server">{ctx.tr("服务器地址", "Server address")}</label>
                <input id="login-server" type="url" inputmode="url" autocomplete="off"
                    prop:value=move || server.get()
                    on:input=move |ev| server.set(event_target_value(&ev)) />
                <Show when=move || missing(server)>
                    <p class="field-error">{ctx.tr("为必填项", "is required")}</p>
                </Show>
                <label for="login-user">{ctx.tr("用户名", "User name")}</label>
                <input id="login-user" type="text" autocomplete="username" autocapitalize="none"
                    prop:value=move || user.get()
                    on:input=move |ev| user.set(event_target_value(&ev)) />
                <Show when=move || missing(user)>
                    <p class="field-error">{ctx.tr("为必填项", "is required")}</p>
                </Show>
                <label for="login-password">{ctx.tr("密码", "Password")}</label>
                <input id="login-password" type="password" autocomplete="current-password"
                    prop:value=move || password.get()
                    on:input=move |ev| password.set(event_target_value(&ev)) />
                <button id="login-submit" class="primary" type="submit" disabled=move || busy.get()>
                    {move || if busy.get() { ctx.t("正在登录…", "Signing in…") } else { ctx.t("登录", "Sign in") }}
                </button>
                <p class="hint">{ctx.tr("登录后，本机可离线工作多日，联网时自动同步。", "After signing in, this device works offline for days and syncs when it can.")}</p>
            </form>
            <LangSwitch />
        </div>
    }
}

/// Settings: language, server, account, device, sign out.
#[component]
pub fn Settings() -> impl IntoView {
    let ctx = use_ctx();
    let confirm = RwSignal::new(false);
    let field = move |f: fn(&gridwork_schema::api::StatusView) -> String| {
        move || ctx.status.with(|s| s.as_ref().map(f).unwrap_or_default())
    };
    let sign_out = move |_| {
        if !confirm.get() {
            confirm.set(true);
            return;
        }
        ctx.call(ApiRequest::Logout, move |_| {
            confirm.set(false);
            ctx.go_tab(Screen::Home);
            ctx.status.set(None);
            ctx.refresh_status();
        });
    };
    view! {
        <div class="stack">
            <section class="card">
                <h2>{ctx.tr("语言", "Language")}</h2>
                <LangSwitch />
            </section>
            <section class="card">
                <h2>{ctx.tr("账号", "Account")}</h2>
                <dl class="facts">
                    <dt>{ctx.tr("姓名", "Name")}</dt>
                    <dd id="settings-name">{field(|s| s.user.as_ref().map(|u| u.name.clone()).unwrap_or_default())}</dd>
                    <dt>{ctx.tr("角色", "Role")}</dt>
                    <dd id="settings-role">{move || ctx.status.with(|s| s.as_ref().and_then(|s| s.user.as_ref()).map(|u| lbl(&u.role, ctx.lang.get()).to_owned()).unwrap_or_default())}</dd>
                    <dt>{ctx.tr("辖区", "Territory")}</dt>
                    <dd>{field(|s| s.scope_name.clone())}</dd>
                    <dt>{ctx.tr("服务器", "Server")}</dt>
                    <dd class="mono" id="settings-server">{field(|s| s.server.clone().unwrap_or_default())}</dd>
                    <dt>{ctx.tr("设备编号", "Device id")}</dt>
                    <dd class="mono small-text" id="settings-device">{field(|s| s.device_id.clone())}</dd>
                </dl>
            </section>
            <section class="card">
                <h2>{ctx.tr("退出登录", "Sign out")}</h2>
                <p class="hint">{ctx.tr(
                    "退出后将删除本机上的全部记录；尚未同步的修改会丢失。",
                    "Signing out removes every record from this device; changes not yet synced are lost.",
                )}</p>
                <Show when=move || ctx.status.with(|s| s.as_ref().is_some_and(|s| s.pending > 0))>
                    <p class="field-error">{move || ctx.status.with(|s| {
                        let n = s.as_ref().map_or(0, |s| s.pending);
                        if ctx.lang.get() == Lang::En { format!("{n} record(s) are not synced yet.") } else { format!("还有{n}条记录未同步。") }
                    })}</p>
                </Show>
                <button id="sign-out" class="danger" on:click=sign_out>
                    {move || if confirm.get() { ctx.t("确认退出并删除本机数据", "Confirm: sign out and delete local data") } else { ctx.t("退出登录", "Sign out") }}
                </button>
            </section>
        </div>
    }
}
