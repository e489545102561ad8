"""Accessibility checks run in the browser on every page the tests visit."""

from __future__ import annotations

from typing import Any

# Inputs without a label, the number of h1, the lang attribute, and the contrast of the main colours
# (text on its background, computed by the browser, WCAG relative luminance).
_AUDIT_JS = """
() => {
  const visible = el => !!(el.offsetWidth || el.offsetHeight || el.getClientRects().length);
  const unlabelled = [];
  for (const el of document.querySelectorAll('input, select, textarea')) {
    if (el.type === 'hidden') continue;
    const byFor = el.id && document.querySelector(`label[for="${el.id}"]`);
    const wrapped = el.closest('label');
    const aria = el.getAttribute('aria-label') || el.getAttribute('aria-labelledby');
    if (!byFor && !wrapped && !aria) unlabelled.push(el.name || el.id || el.outerHTML.slice(0, 60));
  }
  const rgb = s => (s.match(/[\\d.]+/g) || []).slice(0, 3).map(Number);
  const lum = c => {
    const [r, g, b] = c.map(v => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  const bgOf = el => {
    for (let e = el; e; e = e.parentElement) {
      const c = getComputedStyle(e).backgroundColor;
      const alpha = (c.match(/[\\d.]+/g) || [])[3];
      if (c && c !== 'transparent' && alpha !== '0') return rgb(c);
    }
    return [255, 255, 255];
  };
  const ratio = el => {
    const a = lum(rgb(getComputedStyle(el).color)), b = lum(bgOf(el));
    return (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
  };
  const samples = ['h1', 'main p', 'main a', 'nav a', 'button', 'label', 'td', 'th', '.alert', '.badge'];
  const contrast = [];
  for (const sel of samples) {
    for (const el of Array.from(document.querySelectorAll(sel)).filter(visible).slice(0, 5)) {
      contrast.push({sel, ratio: Math.round(ratio(el) * 100) / 100, text: (el.innerText || '').slice(0, 30)});
    }
  }
  return {
    lang: document.documentElement.getAttribute('lang'),
    h1: document.querySelectorAll('h1').length,
    main: document.querySelectorAll('main').length,
    unlabelled,
    contrast,
  };
}
"""


def audit(page: Any, *, min_contrast: float = 4.5) -> dict[str, Any]:
    """Asserts the page's basics and returns the audit (for further checks)."""
    result: dict[str, Any] = page.evaluate(_AUDIT_JS)
    assert result["lang"] in ("ko", "en"), result
    assert result["h1"] == 1, f"{page.url}: {result['h1']} h1 elements"
    assert result["main"] == 1, f"{page.url}: no single main landmark"
    assert not result["unlabelled"], f"{page.url}: inputs without a label: {result['unlabelled']}"
    low = [c for c in result["contrast"] if c["ratio"] < min_contrast]
    assert not low, f"{page.url}: contrast below {min_contrast}: {low}"
    assert result["contrast"], "nothing sampled for contrast"
    return result


def tab_until(page: Any, predicate_js: str, limit: int = 60) -> int:
    """Presses Tab until the focused element satisfies ``predicate_js`` (a JS expression over ``el``);
    returns the number of presses; fails when the keyboard never gets there."""
    for n in range(1, limit + 1):
        page.keyboard.press("Tab")
        if page.evaluate(f"() => {{ const el = document.activeElement; return !!(el && ({predicate_js})); }}"):
            return n
    raise AssertionError(f"{page.url}: Tab never reached {predicate_js} in {limit} presses")
