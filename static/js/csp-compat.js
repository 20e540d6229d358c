/* Loaded BEFORE bootstrap-italia.bundle.min.js (which bundles video.js).
 * video.js injects <style class="vjs-styles-defaults"> on load and a <style> per
 * player; our CSP (style-src 'self') refuses both and logs violations. This flag
 * turns the injection off; player sizes then come from width/height attributes. */
window.VIDEOJS_NO_DYNAMIC_STYLE = true;
