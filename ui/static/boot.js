// Loads the wasm UI; its start function mounts the app. A failure is shown, not a blank page.
import init from './gridwork_ui.js';
init({ module_or_path: new URL('./gridwork_ui_bg.wasm', import.meta.url) }).catch((e) => {
  document.body.textContent = '界面无法启动 / The UI failed to start: ' + e;
});
