// Extract plotly.js's global style rules from its bundle into a CSS file (see static/vendor/plotly-*.css).
// Usage: node scripts/plotly-css.js static/vendor/plotly-basic-X.min.js > static/vendor/plotly-X.css
const fs = require("fs");
const source = fs.readFileSync(process.argv[2], "utf8");
const start = source.search(/[A-Za-z$]+=\{"X,X div"/);
if (start < 0) throw new Error("style rules not found: has plotly.js changed how it ships them?");
const open = source.indexOf("{", start);
let depth = 0, end = open;
for (; end < source.length; end++) {
  if (source[end] === "{") depth++;
  else if (source[end] === "}" && --depth === 0) break;
}
const rules = Function("return (" + source.slice(open, end + 1) + ");")(); // an object literal of the vendored bundle
let css = "/* plotly.js global styles, extracted from its bundle by scripts/plotly-css.js, so that pages keep a strict\n" +
  "   style-src CSP: the <link id=\"plotly.js-style-global\" class=\"no-inline-styles\"> loading this file tells plotly.js\n" +
  "   not to inject them itself. Regenerate after upgrading plotly.js. */\n";
for (const selector in rules) {
  css += selector.replace(/^,/, " ,").replace(/X/g, ".js-plotly-plot .plotly").replace(/Y/g, ".plotly-notifier") + "{" + rules[selector] + "}\n";
}
process.stdout.write(css);
