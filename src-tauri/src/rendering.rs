//! How WebKit draws the window's page: composited on the CPU (the default here) or on the GPU.
//!
//! WebKitGTK 2.50 composites every page on the GPU unless told otherwise (hardware-acceleration
//! policy `always`; `on-demand` behaves the same). Each web process then holds a GL context, GPU
//! tiles for every layer, Skia's GPU caches and the driver's compiled shaders. The UI is text, forms
//! and lists: nothing in it gains from a GPU compositor, which cost the app about 90 MiB (web process
//! 217 MiB against 127 MiB without it under Mesa's software GL; bench/README.md, "Desktop app"; on
//! machines with a GPU a part of it sits in the driver). So the window asks WebKit for policy
//! `never`: it paints and composites the page on the CPU into one buffer.
//!
//! WebGL (WebGL2 for the CAD view) is unaffected in what it can do: WebKit renders a WebGL canvas
//! off screen through ANGLE either way, and without the GPU compositor copies each new frame into the
//! page's painting. `tests/desktop/window.rs` checks that a WebGL2 triangle reaches the window's
//! pixels. Whoever wants WebKit's default back sets `ZK_DESKTOP_COMPOSITING=gpu`.
//!
//! When it applies: WebKit reads the policy when the web process creates the page (and again on a
//! top-level navigation), not while a page is shown. `run()` sets it in Tauri's setup hook, which runs
//! on the main thread right after the window and its webview are created and before the event loop
//! turns again; the web process, which is still starting then, cannot have created the page yet.

/// The variable that chooses the compositor: `cpu` (default) or `gpu`.
pub const COMPOSITING_VAR: &str = "ZK_DESKTOP_COMPOSITING";

/// Where WebKit composites the window's page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compositing {
    /// WebKit's hardware-acceleration policy `never`: painted and composited on the CPU.
    Cpu,
    /// WebKitGTK's default, policy `always`: every page composited on the GPU.
    Gpu,
}

impl Compositing {
    /// The choice from `ZK_DESKTOP_COMPOSITING`'s value: unset or empty is [`Compositing::Cpu`];
    /// `cpu` or `gpu` in any case; anything else is an error that says what is accepted.
    pub fn from_setting(value: Option<&str>) -> Result<Self, String> {
        match value.map(str::trim) {
            None | Some("") => Ok(Self::Cpu),
            Some(v) if v.eq_ignore_ascii_case("cpu") => Ok(Self::Cpu),
            Some(v) if v.eq_ignore_ascii_case("gpu") => Ok(Self::Gpu),
            Some(v) => {
                Err(format!("{COMPOSITING_VAR}={v:?} is neither `cpu` nor `gpu`; fix: unset it (cpu) or set `gpu`"))
            }
        }
    }

    /// From the environment; an invalid value falls back to the default with a warning in the log
    /// (the window still opens).
    pub fn from_env() -> Self {
        let value = std::env::var(COMPOSITING_VAR).ok();
        Self::from_setting(value.as_deref()).unwrap_or_else(|problem| {
            tracing::warn!(problem = %problem, "desktop: ignoring an invalid compositing setting");
            Self::Cpu
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Cpu => "cpu",
            Self::Gpu => "gpu",
        }
    }
}

/// Sets the window's compositing on its WebKit settings. Call it before the event loop turns after
/// the window was created (Tauri's setup hook): see the module's documentation. Other platforms keep
/// their engine's defaults.
pub fn apply(window: &tauri::WebviewWindow, compositing: Compositing) -> tauri::Result<()> {
    #[cfg(target_os = "linux")]
    window.with_webview(move |webview| {
        use webkit2gtk::{HardwareAccelerationPolicy, SettingsExt, WebViewExt};
        let policy = match compositing {
            Compositing::Cpu => HardwareAccelerationPolicy::Never,
            Compositing::Gpu => HardwareAccelerationPolicy::Always,
        };
        if let Some(settings) = WebViewExt::settings(&webview.inner()) {
            settings.set_hardware_acceleration_policy(policy);
        }
    })?;
    #[cfg(not(target_os = "linux"))]
    let _ = (window, compositing);
    tracing::info!(compositing = compositing.as_str(), "desktop: web content compositing");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cpu_compositor_is_the_default_and_gpu_can_be_chosen() {
        assert_eq!(Compositing::from_setting(None), Ok(Compositing::Cpu));
        assert_eq!(Compositing::from_setting(Some("")), Ok(Compositing::Cpu));
        assert_eq!(Compositing::from_setting(Some(" CPU ")), Ok(Compositing::Cpu));
        assert_eq!(Compositing::from_setting(Some("gpu")), Ok(Compositing::Gpu));
        assert_eq!(Compositing::from_setting(Some("Gpu")), Ok(Compositing::Gpu));
    }

    #[test]
    fn an_unknown_value_is_refused_with_the_fix() {
        let problem = Compositing::from_setting(Some("on")).expect_err("not a choice");
        assert!(problem.contains("ZK_DESKTOP_COMPOSITING") && problem.contains("gpu"), "{problem}");
    }
}
