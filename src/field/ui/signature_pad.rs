//! A finger signature on a canvas: pointer events (finger, pen or mouse),
//! smoothed strokes, undo and clear. Kept as stroke data (x, y in CSS
//! pixels, t in ms from the first touch) and exported as a PNG.

use leptos::html;
use leptos::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{CanvasRenderingContext2d, PointerEvent};

use crate::text::zh;

type Stroke = Vec<[f64; 3]>;

/// What the page holds of a pad: its canvas and its strokes.
#[derive(Clone, Copy)]
pub struct Pad {
    canvas: NodeRef<html::Canvas>,
    strokes: StoredValue<Vec<Stroke>>,
    /// Number of strokes, for buttons that need a signature.
    pub count: RwSignal<usize>,
    drawing: StoredValue<bool>,
    started_ms: StoredValue<f64>,
}

impl Pad {
    pub fn new() -> Pad {
        Pad {
            canvas: NodeRef::new(),
            strokes: StoredValue::new(Vec::new()),
            count: RwSignal::new(0),
            drawing: StoredValue::new(false),
            started_ms: StoredValue::new(0.0),
        }
    }

    /// `(strokes_json, png_base64)`, or `None` with nothing drawn.
    pub fn export(&self) -> Option<(String, String)> {
        if self.strokes.with_value(Vec::is_empty) {
            return None;
        }
        let strokes: Vec<Vec<[i64; 3]>> = self.strokes.with_value(|s| {
            s.iter()
                .map(|stroke| {
                    stroke
                        .iter()
                        .map(|[x, y, t]| {
                            [
                                (*x * 10.0).round() as i64,
                                (*y * 10.0).round() as i64,
                                *t as i64,
                            ]
                        })
                        .collect()
                })
                .collect()
        });
        let url = self.canvas.get_untracked()?.to_data_url().ok()?;
        let png = url.split_once(',')?.1.to_owned();
        Some((serde_json::to_string(&strokes).ok()?, png))
    }

    pub fn clear(&self) {
        self.strokes.set_value(Vec::new());
        self.count.set(0);
        self.redraw();
    }

    pub fn undo(&self) {
        self.strokes.update_value(|s| {
            s.pop();
        });
        self.count.set(self.strokes.with_value(Vec::len));
        self.redraw();
    }

    fn context(&self) -> Option<(web_sys::HtmlCanvasElement, CanvasRenderingContext2d)> {
        let canvas: web_sys::HtmlCanvasElement = self.canvas.get_untracked()?;
        let ctx = canvas
            .get_context("2d")
            .ok()??
            .dyn_into::<CanvasRenderingContext2d>()
            .ok()?;
        Some((canvas, ctx))
    }

    /// Sizes the backing store to the element (at most 2× for sharpness
    /// without a heavy PNG) and draws everything again.
    fn fit(&self) {
        let Some((canvas, _)) = self.context() else {
            return;
        };
        let ratio = web_sys::window()
            .map(|w| w.device_pixel_ratio())
            .unwrap_or(1.0)
            .clamp(1.0, 2.0);
        let rect = canvas.get_bounding_client_rect();
        canvas.set_width((rect.width() * ratio).round().max(1.0) as u32);
        canvas.set_height((rect.height() * ratio).round().max(1.0) as u32);
        self.redraw();
    }

    fn redraw(&self) {
        let Some((canvas, ctx)) = self.context() else {
            return;
        };
        ctx.set_transform(1.0, 0.0, 0.0, 1.0, 0.0, 0.0).ok();
        ctx.clear_rect(0.0, 0.0, canvas.width() as f64, canvas.height() as f64);
        let rect = canvas.get_bounding_client_rect();
        let ratio = if rect.width() > 0.0 {
            canvas.width() as f64 / rect.width()
        } else {
            1.0
        };
        ctx.scale(ratio, ratio).ok();
        ctx.set_line_width(3.0);
        ctx.set_line_cap("round");
        ctx.set_line_join("round");
        ctx.set_stroke_style_str("#111");
        self.strokes.with_value(|strokes| {
            for stroke in strokes {
                draw(&ctx, stroke);
            }
        });
    }

    fn point(&self, ev: &PointerEvent) -> Option<[f64; 3]> {
        let canvas = self.canvas.get_untracked()?;
        let rect = canvas.get_bounding_client_rect();
        let now = js_sys::Date::now();
        Some([
            ev.client_x() as f64 - rect.left(),
            ev.client_y() as f64 - rect.top(),
            now - self.started_ms.get_value(),
        ])
    }

    fn down(&self, ev: PointerEvent) {
        ev.prevent_default();
        if let Some(canvas) = self.canvas.get_untracked() {
            let _ = canvas.set_pointer_capture(ev.pointer_id());
        }
        if self.strokes.with_value(Vec::is_empty) {
            self.started_ms.set_value(js_sys::Date::now());
        }
        let Some(p) = self.point(&ev) else { return };
        self.drawing.set_value(true);
        self.strokes.update_value(|s| s.push(vec![p]));
        self.count.set(self.strokes.with_value(Vec::len));
        self.redraw();
    }

    fn moved(&self, ev: PointerEvent) {
        if !self.drawing.get_value() {
            return;
        }
        ev.prevent_default();
        let Some(p) = self.point(&ev) else { return };
        self.strokes.update_value(|s| {
            if let Some(last) = s.last_mut() {
                last.push(p);
            }
        });
        self.redraw();
    }

    fn up(&self) {
        self.drawing.set_value(false);
    }
}

impl Default for Pad {
    fn default() -> Self {
        Pad::new()
    }
}

/// A stroke through the midpoints of its samples with quadratic curves:
/// smooth at any sampling rate, and a dot for a single touch.
fn draw(ctx: &CanvasRenderingContext2d, stroke: &[[f64; 3]]) {
    let Some(first) = stroke.first() else { return };
    ctx.begin_path();
    ctx.move_to(first[0], first[1]);
    if stroke.len() == 1 {
        ctx.line_to(first[0] + 0.1, first[1] + 0.1);
    }
    for pair in stroke.windows(2) {
        let (a, b) = (pair[0], pair[1]);
        ctx.quadratic_curve_to(a[0], a[1], (a[0] + b[0]) / 2.0, (a[1] + b[1]) / 2.0);
    }
    if let Some(last) = stroke.last() {
        ctx.line_to(last[0], last[1]);
    }
    ctx.stroke();
}

#[component]
pub fn SignaturePad(
    pad: Pad,
    /// A thumbprint instead of a signature: the words say how.
    thumbprint: Signal<bool>,
) -> impl IntoView {
    let hint = move || {
        if thumbprint.get() {
            zh::PRESS_THUMB_HERE
        } else {
            zh::SIGN_HERE
        }
    };
    Effect::new(move |_| {
        if pad.canvas.get().is_some() {
            pad.fit();
        }
    });
    view! {
        <div class="sigpad">
            <canvas node_ref=pad.canvas class="sigpad-canvas" data-testid="signature-pad"
                aria-label=hint
                on:pointerdown=move |ev| pad.down(ev)
                on:pointermove=move |ev| pad.moved(ev)
                on:pointerup=move |_| pad.up()
                on:pointercancel=move |_| pad.up()></canvas>
            <p class="sigpad-hint" data-testid="sigpad-hint">{hint}</p>
            <div class="actions">
                <button type="button" class="btn" data-testid="signature-undo"
                    disabled=move || pad.count.get() == 0 on:click=move |_| pad.undo()>{zh::UNDO_STROKE}</button>
                <button type="button" class="btn" data-testid="signature-clear"
                    disabled=move || pad.count.get() == 0 on:click=move |_| pad.clear()>{zh::CLEAR}</button>
            </div>
        </div>
    }
}
