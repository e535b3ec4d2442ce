//! The Gridwork user interface, in Leptos (client-side rendered, built to wasm).
