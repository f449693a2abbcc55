// Accessibility checks run in the page by tests/e2e/test_accessibility.py (no network, no CDN):
// form controls without an accessible name, images without alt text, and text whose contrast
// with its background is below WCAG 2.1 AA (4.5:1, 3:1 for large text). Returns a list of problems.
() => {
  const problems = [];
  const describe = (el) => {
    const id = el.id ? `#${el.id}` : "";
    const name = el.getAttribute("name") ? `[name=${el.getAttribute("name")}]` : "";
    const testid = el.dataset && el.dataset.testid ? `[data-testid=${el.dataset.testid}]` : "";
    const text = (el.textContent || "").trim().slice(0, 40);
    return `<${el.tagName.toLowerCase()}${id}${name}${testid}> "${text}"`;
  };
  const shown = (el) => {
    const style = getComputedStyle(el);
    return style.display !== "none" && style.visibility !== "hidden" && el.getClientRects().length > 0;
  };

  // 1. Every form control has an accessible name (label, aria-label(ledby), title; text for buttons).
  const nameOf = (el) => {
    const aria = (el.getAttribute("aria-label") || "").trim();
    if (aria) return aria;
    const ids = (el.getAttribute("aria-labelledby") || "").split(/\s+/).filter(Boolean);
    const labelled = ids.map((id) => (document.getElementById(id) || {}).textContent || "").join(" ").trim();
    if (labelled) return labelled;
    const labels = Array.from(el.labels || []).map((l) => l.textContent).join(" ").trim();
    if (labels) return labels;
    if (el.tagName === "BUTTON") return el.textContent.trim();
    if (el.tagName === "INPUT" && ["submit", "button", "reset"].includes(el.type)) return el.value.trim();
    if (el.tagName === "INPUT" && el.type === "image") return (el.alt || "").trim();
    return (el.getAttribute("title") || "").trim();
  };
  for (const el of document.querySelectorAll("input, select, textarea, button")) {
    if (el.type === "hidden" || !shown(el)) continue;
    if (!nameOf(el)) problems.push(`no accessible name: ${describe(el)}`);
  }

  // 2. Images have alt text (empty alt marks a decorative image); SVG images have a name.
  for (const img of document.querySelectorAll("img")) {
    if (!img.hasAttribute("alt")) problems.push(`image without alt: ${img.getAttribute("src")}`);
  }
  for (const svg of document.querySelectorAll("svg[role=img]")) {
    if (!nameOf(svg) && !svg.querySelector("title")) problems.push(`svg image without a name: ${describe(svg)}`);
  }

  // 3. Text contrast, from computed colours: the text colour over the first opaque background up
  // the tree (translucent backgrounds are blended in). Text over a background image is skipped.
  const parse = (value) => {
    const m = value.match(/rgba?\(([^)]+)\)/);
    if (!m) return null;
    const parts = m[1].split(/[\s,\/]+/).filter(Boolean).map(Number);
    return { r: parts[0], g: parts[1], b: parts[2], a: parts.length > 3 ? parts[3] : 1 };
  };
  const over = (top, bottom) => ({
    r: top.r * top.a + bottom.r * (1 - top.a),
    g: top.g * top.a + bottom.g * (1 - top.a),
    b: top.b * top.a + bottom.b * (1 - top.a),
    a: 1,
  });
  const luminance = (c) => {
    const channel = (v) => {
      v /= 255;
      return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4);
    };
    return 0.2126 * channel(c.r) + 0.7152 * channel(c.g) + 0.0722 * channel(c.b);
  };
  const backgroundOf = (el) => {
    const layers = [];
    for (let node = el; node && node.nodeType === 1; node = node.parentElement) {
      const style = getComputedStyle(node);
      if (style.backgroundImage && style.backgroundImage !== "none") return null;
      const colour = parse(style.backgroundColor);
      if (colour && colour.a > 0) {
        layers.push(colour);
        if (colour.a >= 1) break;
      }
    }
    let result = { r: 255, g: 255, b: 255, a: 1 };  // the canvas
    for (const layer of layers.reverse()) result = over(layer, result);
    return result;
  };
  const seen = new Set();
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode;
    const el = node.parentElement;
    if (!node.textContent.trim() || !el || seen.has(el) || !shown(el)) continue;
    seen.add(el);
    if (el.closest("[disabled], [aria-disabled=true], option, script, style")) continue;  // exempt
    const style = getComputedStyle(el);
    const background = backgroundOf(el);
    let colour = parse(style.color);
    if (!background || !colour) continue;
    colour = over({ ...colour, a: colour.a * Number(style.opacity) }, background);
    const [light, dark] = [luminance(colour), luminance(background)].sort((x, y) => y - x);
    const ratio = (light + 0.05) / (dark + 0.05);
    const size = parseFloat(style.fontSize);
    const large = size >= 24 || (size >= 18.66 && Number(style.fontWeight) >= 700);
    const needed = large ? 3 : 4.5;
    if (ratio < needed) {
      problems.push(`contrast ${ratio.toFixed(2)} < ${needed}: ${describe(el)} (${style.color} on rgb(${Math.round(background.r)}, ${Math.round(background.g)}, ${Math.round(background.b)}))`);
    }
  }
  return problems;
}
