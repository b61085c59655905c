//! What the phone itself offers: position, camera pictures, the service
//! worker, performance marks.

use js_sys::{Function, Promise, Reflect};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{CanvasRenderingContext2d, HtmlCanvasElement, ImageBitmap, PositionOptions};

use crate::visits::{Location, MAX_PHOTO_BYTES};

/// The household's receipt link, and its QR code (an SVG `data:` URL)
/// when [`QR_SCRIPT`](crate::receipts::QR_SCRIPT) is there to draw it (see
/// [`load_qr_drawer`]; drawn by the script itself once it arrives if not).
pub fn receipt_qr(code: &str) -> Option<(Option<String>, String)> {
    let window = web_sys::window()?;
    let origin = window.location().origin().ok()?;
    let link = format!("{origin}{}", crate::receipts::receipt_href(code));
    let url = qr_drawer(&window)
        .and_then(|draw| draw.call1(&JsValue::NULL, &JsValue::from_str(&link)).ok())
        .and_then(|url| url.as_string())
        .filter(|url| !url.is_empty());
    Some((url, link))
}

fn qr_drawer(window: &web_sys::Window) -> Option<Function> {
    Reflect::get(window, &"daohuQr".into())
        .ok()?
        .dyn_into()
        .ok()
}

/// Loads the receipt's QR drawer when a visit opens, minutes before it is
/// signed: it is not part of `/field`'s first load, and the service worker
/// has it precached, so it loads offline too. A load that failed (the
/// drawer still missing) is tried again by the next visit.
pub fn load_qr_drawer() {
    let Some(window) = web_sys::window() else {
        return;
    };
    let Some(document) = window.document() else {
        return;
    };
    if qr_drawer(&window).is_some() {
        return;
    }
    let selector = format!("script[src=\"{}\"]", crate::receipts::QR_SCRIPT);
    if let Ok(Some(earlier)) = document.query_selector(&selector) {
        earlier.remove();
    }
    if let (Ok(script), Some(root)) = (
        document.create_element("script"),
        document.document_element(),
    ) {
        let _ = script.set_attribute("src", crate::receipts::QR_SCRIPT);
        let _ = root.append_child(&script);
    }
}

/// Asks for the position once. A refusal is an answer, not an error: it
/// is recorded with the visit.
pub async fn locate() -> Location {
    let Some(geo) = web_sys::window().and_then(|w| w.navigator().geolocation().ok()) else {
        return Location::Unavailable;
    };
    let promise = Promise::new(&mut |resolve: Function, _reject: Function| {
        let ok = {
            let resolve = resolve.clone();
            Closure::once_into_js(move |pos: JsValue| {
                let _ = resolve.call1(&JsValue::NULL, &pos);
            })
        };
        let err = {
            let resolve = resolve.clone();
            Closure::once_into_js(move |e: JsValue| {
                let _ = resolve.call1(&JsValue::NULL, &e);
            })
        };
        let options = PositionOptions::new();
        options.set_enable_high_accuracy(true);
        options.set_timeout(20_000);
        options.set_maximum_age(60_000);
        if geo
            .get_current_position_with_error_callback_and_options(
                ok.unchecked_ref(),
                Some(err.unchecked_ref()),
                &options,
            )
            .is_err()
        {
            let _ = resolve.call1(&JsValue::NULL, &JsValue::NULL);
        }
    });
    let answer = JsFuture::from(promise).await.unwrap_or(JsValue::NULL);
    let number = |obj: &JsValue, key: &str| Reflect::get(obj, &key.into()).ok()?.as_f64();
    if let Ok(coords) = Reflect::get(&answer, &"coords".into())
        && let (Some(lat), Some(lon), Some(acc)) = (
            number(&coords, "latitude"),
            number(&coords, "longitude"),
            number(&coords, "accuracy"),
        )
    {
        return Location::Fix {
            lat_e6: (lat * 1e6).round() as i64,
            lon_e6: (lon * 1e6).round() as i64,
            accuracy_m: acc.round().clamp(0.0, i32::MAX as f64) as i32,
        };
    }
    // GeolocationPositionError.PERMISSION_DENIED
    if number(&answer, "code") == Some(1.0) {
        Location::Refused
    } else {
        Location::Unavailable
    }
}

/// Shrinks a camera picture to a JPEG of at most [`MAX_PHOTO_BYTES`]:
/// first by quality, then by size. Returns standard base64.
pub async fn compress_photo(file: &web_sys::File) -> Result<String, String> {
    let window = web_sys::window().ok_or("no window")?;
    let bitmap: ImageBitmap = JsFuture::from(
        window
            .create_image_bitmap_with_blob(file)
            .map_err(|_| "无法读取照片")?,
    )
    .await
    .map_err(|_| "无法读取照片（格式不支持）")?
    .dyn_into()
    .map_err(|_| "无法读取照片")?;
    let canvas: HtmlCanvasElement = window
        .document()
        .ok_or("no document")?
        .create_element("canvas")
        .map_err(|_| "no canvas")?
        .dyn_into()
        .map_err(|_| "no canvas")?;
    let (w, h) = (bitmap.width() as f64, bitmap.height() as f64);
    let mut scale = (1600.0 / w.max(h)).min(1.0);
    for _ in 0..6 {
        let (cw, ch) = ((w * scale).round().max(1.0), (h * scale).round().max(1.0));
        canvas.set_width(cw as u32);
        canvas.set_height(ch as u32);
        let ctx: CanvasRenderingContext2d = canvas
            .get_context("2d")
            .ok()
            .flatten()
            .ok_or("no 2d context")?
            .dyn_into()
            .map_err(|_| "no 2d context")?;
        ctx.draw_image_with_image_bitmap_and_dw_and_dh(&bitmap, 0.0, 0.0, cw, ch)
            .map_err(|_| "无法处理照片")?;
        for quality in [0.8, 0.65, 0.5, 0.4] {
            let url = canvas
                .to_data_url_with_type_and_encoder_options(
                    "image/jpeg",
                    &JsValue::from_f64(quality),
                )
                .map_err(|_| "无法压缩照片")?;
            let data = url.split_once(',').map(|(_, d)| d).unwrap_or_default();
            if data.len() / 4 * 3 <= MAX_PHOTO_BYTES {
                return Ok(data.to_owned());
            }
        }
        scale *= 0.7;
    }
    Err("照片无法压缩到 300 KB 以内".into())
}

/// Registers the service worker (see `public/sw.js`); once it runs, the
/// field app opens with no network.
pub fn register_service_worker() {
    let Some(window) = web_sys::window() else {
        return;
    };
    if Reflect::has(&window.navigator(), &"serviceWorker".into()) != Ok(true) {
        return;
    }
    let _ = window.navigator().service_worker().register("/sw.js");
}

/// Asks the browser to keep this site's storage under pressure instead of
/// evicting it: the phone's drafts and outbox exist nowhere else.
pub fn keep_storage() {
    let Some(window) = web_sys::window() else {
        return;
    };
    let Ok(storage) = Reflect::get(&window.navigator(), &"storage".into()) else {
        return;
    };
    if let Ok(persist) = Reflect::get(&storage, &"persist".into())
        && let Some(persist) = persist.dyn_ref::<Function>()
    {
        let _ = persist.call0(&storage);
    }
}

/// A named point on the page's timeline, for the phone benchmark.
pub fn mark(name: &str) {
    if let Some(perf) = web_sys::window().and_then(|w| w.performance()) {
        let _ = perf.mark(name);
    }
}

/// Whether the browser believes it has a connection (a hint, not a promise).
pub fn online() -> bool {
    web_sys::window().is_none_or(|w| w.navigator().on_line())
}
