//! Create forms that keep what is typed as a `Draft` record (so nothing is lost when the app
//! closes mid-form) and validate as you type with the schema's own messages.

use chrono::{DateTime, NaiveDate, Utc};
use gridwork_schema::api::{ApiRequest, ApiResponse, FieldError, field_errors};
use gridwork_schema::{RecordId, UserRef, Validate, ValidationContext};
use leptos::prelude::*;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::ctx::use_ctx;
use crate::widgets::{self, now_ms};

/// Today's date on this device.
pub fn today() -> NaiveDate {
    widgets::local_date(now_ms()).parse().unwrap_or_default()
}

/// A record id, author and time to build a would-be record for validation.
pub fn probe() -> (RecordId, UserRef, DateTime<Utc>) {
    let now = now_ms();
    let id = RecordId::from_parts(u64::try_from(now).unwrap_or_default(), [7; 10]);
    let at = DateTime::from_timestamp_millis(now).unwrap_or_default();
    (id, UserRef::new("me", "me"), at)
}

/// The schema's errors for `record`, as the UI shows them.
pub fn errors_of(record: &impl Validate) -> Vec<FieldError> {
    match record.validate(&ValidationContext::new(today())) {
        Ok(()) => Vec::new(),
        Err(e) => field_errors(&e),
    }
}

/// Whether an error belongs to `field` (itself, or a part of it).
pub fn under(e: &FieldError, field: &str) -> bool {
    e.field == field
        || e.field.starts_with(&format!("{field}."))
        || e.field.starts_with(&format!("{field}["))
}

/// A form whose contents are kept as a draft while being filled in.
pub struct Drafted<T: Send + Sync + 'static> {
    /// What has been typed.
    pub form: RwSignal<T>,
    /// Whether an earlier draft was restored.
    pub restored: RwSignal<bool>,
    /// Fields touched so far (their errors show).
    pub touched: RwSignal<Vec<String>>,
    /// Whether submitting was tried (every error shows).
    pub tried: RwSignal<bool>,
    draft_id: RwSignal<Option<RecordId>>,
    edits: RwSignal<u32>,
    name: &'static str,
}

impl<T: Send + Sync + 'static> Clone for Drafted<T> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<T: Send + Sync + 'static> Copy for Drafted<T> {}

impl<T> Drafted<T>
where
    T: Clone + Serialize + DeserializeOwned + Send + Sync + 'static,
{
    /// A form named `name` starting as `initial`; a saved draft replaces it when `fits` says
    /// the draft belongs here (e.g. to the same case).
    pub fn new(name: &'static str, initial: T, fits: impl Fn(&T) -> bool + 'static) -> Self {
        let ctx = use_ctx();
        let d = Self {
            form: RwSignal::new(initial),
            restored: RwSignal::new(false),
            touched: RwSignal::new(Vec::new()),
            tried: RwSignal::new(false),
            draft_id: RwSignal::new(None),
            edits: RwSignal::new(0),
            name,
        };
        ctx.call(ApiRequest::GetDraft { form: name.into() }, move |r| {
            if let ApiResponse::Draft(Some(draft)) = r {
                if let Ok(f) = serde_json::from_value::<T>(draft.data.clone())
                    && fits(&f)
                    && d.edits.get_untracked() == 0
                {
                    d.form.set(f);
                    d.restored.set(true);
                }
                d.draft_id.set(Some(draft.id));
            }
        });
        d
    }

    fn save(self) {
        let ctx = use_ctx();
        let data = serde_json::to_value(self.form.get_untracked()).unwrap_or_default();
        ctx.call_then(
            ApiRequest::SaveDraft {
                id: self.draft_id.get_untracked(),
                form: self.name.into(),
                data,
            },
            move |r| {
                if let Ok(ApiResponse::Created { id }) = r {
                    self.draft_id.set(Some(id));
                }
            },
        );
    }

    /// Changes the form; the draft is saved shortly after typing stops.
    pub fn edit(self, field: &str, f: impl FnOnce(&mut T)) {
        self.form.update(f);
        let field = field.to_owned();
        self.touched.update(|t| {
            if !t.contains(&field) {
                t.push(field);
            }
        });
        self.edits.update(|n| *n += 1);
        let n = self.edits.get_untracked();
        set_timeout(
            move || {
                if self.edits.get_untracked() == n {
                    self.save();
                }
            },
            std::time::Duration::from_millis(600),
        );
    }

    /// The errors to show: of touched fields, or all once submitting was tried.
    pub fn errors(self, check: fn(&T) -> Vec<FieldError>) -> Signal<Vec<FieldError>> {
        Signal::derive(move || {
            let all = self.form.with(check);
            if self.tried.get() {
                return all;
            }
            let t = self.touched.get();
            all.into_iter()
                .filter(|e| t.iter().any(|f| under(e, f)))
                .collect()
        })
    }

    /// Marks submitting as tried; true when `check` finds nothing (else says so).
    pub fn ready(self, check: fn(&T) -> Vec<FieldError>) -> bool {
        self.tried.set(true);
        let ok = self.form.with_untracked(check).is_empty();
        if !ok {
            use_ctx().info("请按提示修改后再提交", "Fix the marked fields first");
        }
        ok
    }

    /// The form was submitted: no more draft saves, and the draft is used up.
    pub fn submitted(self) {
        self.edits.update(|n| *n += 1_000_000);
        if let Some(d) = self.draft_id.get_untracked() {
            use_ctx().call(ApiRequest::ClearDraft { id: d }, |_| {});
        }
    }
}

/// The "draft restored" banner and the note under a form.
pub fn restored_banner(restored: RwSignal<bool>) -> impl IntoView {
    let ctx = use_ctx();
    view! {
        <Show when=move || restored.get()>
            <p class="banner info" id="draft-restored">{ctx.tr("已恢复上次未提交的草稿", "Your unfinished draft was restored")}</p>
        </Show>
    }
}

/// The note under a drafted form.
pub fn draft_hint() -> impl IntoView {
    let ctx = use_ctx();
    view! { <p class="hint center">{ctx.tr("填写内容会自动保存为草稿，关闭应用也不会丢失。", "What you type is kept as a draft, even if the app closes.")}</p> }
}

/// A serde name of an enum value (`"agreed"`), for `<option value>` and ids.
pub fn key<V: Serialize>(v: V) -> String {
    serde_json::to_value(v)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// An enum value from its serde name.
pub fn from_key<V: DeserializeOwned>(s: &str) -> Option<V> {
    serde_json::from_value(serde_json::Value::String(s.to_owned())).ok()
}

/// Editable list of residents (parties or petitioners) inside a drafted form.
pub fn parties_editor<T>(
    d: Drafted<T>,
    field: &'static str,
    get: fn(&T) -> &Vec<gridwork_schema::Party>,
    get_mut: fn(&mut T) -> &mut Vec<gridwork_schema::Party>,
    errors: Signal<Vec<FieldError>>,
) -> impl IntoView
where
    T: Clone + Serialize + DeserializeOwned + Send + Sync + 'static,
{
    use gridwork_schema::Party;
    let ctx = use_ctx();
    view! {
        {move || (0..d.form.with(|f| get(f).len())).map(|i| {
            let party = move |g: fn(&Party) -> String| move || d.form.with(|f| get(f).get(i).map(g).unwrap_or_default());
            let set = move |s: fn(&mut Party, String)| move |ev: leptos::ev::Event| {
                let v = event_target_value(&ev);
                d.edit(field, move |f| if let Some(p) = get_mut(f).get_mut(i) { s(p, v) });
            };
            view! {
                <fieldset class="party">
                    <legend>{move || format!("{} {}", ctx.t("当事人", "Party"), i + 1)}</legend>
                    <label>{ctx.tr("姓名", "Name")}</label>
                    <input type="text" class="party-name" prop:value=party(|p| p.name.clone()) on:input=set(|p, v| p.name = v) />
                    <label>{ctx.tr("电话（可选）", "Phone (optional)")}</label>
                    <input type="tel" inputmode="tel" class="party-phone" prop:value=party(|p| p.phone.clone()) on:input=set(|p, v| p.phone = v) />
                    <button type="button" class="link danger-text" on:click=move |_| d.edit(field, move |f| { let l = get_mut(f); if i < l.len() { l.remove(i); } })>
                        {ctx.tr("移除此当事人", "Remove this party")}
                    </button>
                </fieldset>
            }
        }).collect_view()}
        {widgets::field_errors(errors, field)}
        <button type="button" class="secondary add-party" on:click=move |_| d.edit(field, |f| get_mut(f).push(Party::default()))>
            {ctx.tr("＋ 添加当事人", "＋ Add party")}
        </button>
    }
}
