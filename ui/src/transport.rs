//! How the UI reaches the device: Tauri's `invoke("api")` inside the app, `POST /api` of the
//! development server in a plain browser. Both carry [`ApiRequest`] / [`ApiResponse`] as JSON.

use gridwork_schema::api::{ApiError, ApiRequest, ApiResponse, ErrorCode};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

/// Sends a request to the device and waits for its answer.
pub async fn call(request: &ApiRequest) -> Result<ApiResponse, ApiError> {
    let body = serde_json::to_string(request).map_err(|_| internal("encode"))?;
    let text = match tauri_invoke() {
        Some(invoke) => via_tauri(&invoke, &body).await?,
        None => via_http(&body).await?,
    };
    serde_json::from_str(&text).map_err(|_| internal("decode"))
}

fn internal(what: &str) -> ApiError {
    ApiError::new(
        ErrorCode::Internal,
        format!("界面与本机通信失败（{what}）"),
        format!("The UI could not talk to the device ({what})"),
    )
}

fn unreachable_device() -> ApiError {
    ApiError::new(
        ErrorCode::Internal,
        "无法连接本机服务",
        "Cannot reach the device service",
    )
}

/// `window.__TAURI_INTERNALS__.invoke`, when running inside the Tauri app.
fn tauri_invoke() -> Option<js_sys::Function> {
    let window = web_sys::window()?;
    let internals = js_sys::Reflect::get(&window, &JsValue::from_str("__TAURI_INTERNALS__"))
        .ok()
        .filter(|v| v.is_object())?;
    js_sys::Reflect::get(&internals, &JsValue::from_str("invoke"))
        .ok()?
        .dyn_into()
        .ok()
}

async fn via_tauri(invoke: &js_sys::Function, body: &str) -> Result<String, ApiError> {
    let request = js_sys::JSON::parse(body).map_err(|_| internal("encode"))?;
    let args = js_sys::Object::new();
    js_sys::Reflect::set(&args, &JsValue::from_str("request"), &request)
        .map_err(|_| internal("args"))?;
    let promise: js_sys::Promise = invoke
        .call2(&JsValue::NULL, &JsValue::from_str("api"), &args)
        .map_err(|_| unreachable_device())?
        .dyn_into()
        .map_err(|_| internal("invoke"))?;
    match JsFuture::from(promise).await {
        Ok(v) => js_string(&v),
        Err(e) => {
            let text = js_string(&e)?;
            Err(serde_json::from_str::<ApiError>(&text).unwrap_or_else(|_| internal("error")))
        }
    }
}

fn js_string(v: &JsValue) -> Result<String, ApiError> {
    if let Some(s) = v.as_string() {
        // A rejected invoke may carry a plain string; keep it JSON.
        return Ok(serde_json::to_string(&s).unwrap_or_default());
    }
    js_sys::JSON::stringify(v)
        .map(String::from)
        .map_err(|_| internal("decode"))
}

async fn via_http(body: &str) -> Result<String, ApiError> {
    let window = web_sys::window().ok_or_else(unreachable_device)?;
    let init = web_sys::RequestInit::new();
    init.set_method("POST");
    init.set_body(&JsValue::from_str(body));
    let headers = web_sys::Headers::new().map_err(|_| internal("headers"))?;
    headers
        .set("content-type", "application/json")
        .map_err(|_| internal("headers"))?;
    init.set_headers(&headers);
    let request =
        web_sys::Request::new_with_str_and_init("/api", &init).map_err(|_| internal("request"))?;
    let response: web_sys::Response = JsFuture::from(window.fetch_with_request(&request))
        .await
        .map_err(|_| unreachable_device())?
        .dyn_into()
        .map_err(|_| internal("response"))?;
    let ok = response.ok();
    let text = JsFuture::from(response.text().map_err(|_| internal("body"))?)
        .await
        .map_err(|_| unreachable_device())?
        .as_string()
        .unwrap_or_default();
    if ok {
        Ok(text)
    } else {
        Err(serde_json::from_str::<ApiError>(&text).unwrap_or_else(|_| internal("error")))
    }
}
