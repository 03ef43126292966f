// The first script of page.html and of the demo page in the engine tests: records in
// window.__problems what a browser console would show as errors, for browsers driven over classic
// WebDriver (WebKit), which reports no console events: console.error calls, uncaught errors and
// unhandled rejections, elements whose resource fails to load (capture phase), CSP violations.
// A classic script, so that it runs before any module.
(() => {
  const problems = (window.__problems = []);
  const text = (v) => (v && v.stack) || String(v);
  const error = console.error.bind(console);
  console.error = (...args) => { problems.push('console.error: ' + args.map(text).join(' ')); error(...args); };
  addEventListener('error', (e) => {
    const t = e.target;
    problems.push(t && t !== window ? 'failed to load <' + t.localName + '> ' + (t.src || t.href || '') : 'uncaught: ' + e.message + ' (' + e.filename + ':' + e.lineno + ')');
  }, true);
  addEventListener('unhandledrejection', (e) => problems.push('unhandled rejection: ' + text(e.reason)));
  addEventListener('securitypolicyviolation', (e) => problems.push('CSP violation: ' + e.violatedDirective + ' ' + e.blockedURI));
})();
