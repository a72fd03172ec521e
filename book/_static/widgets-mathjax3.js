/* Lets the Jupyter widgets HTML manager typeset with MathJax 3.
 *
 * @jupyter-widgets/html-manager (embed.js) typesets widget labels with MathJax 2's
 * API, `MathJax.Hub.Queue(["Typeset", MathJax.Hub, element])`, whenever a global
 * `MathJax` exists. The book loads MathJax 3, which has no `Hub`, so on any page
 * with both a formula and a widget that call throws ("Cannot read properties of
 * undefined (reading 'Queue')") and the widget is not drawn. This file, loaded just
 * before embed.js (nb_ipywidgets_js in _config.yml), gives whatever object is
 * `window.MathJax` (Sphinx's configuration object, then MathJax 3 itself, which
 * replaces it) a `Hub.Queue` that hands "Typeset" jobs to MathJax 3's
 * `typesetPromise`.
 */
(function () {
  "use strict";
  var hub = {
    Queue: function () {
      for (var i = 0; i < arguments.length; i++) {
        var job = arguments[i];
        if (!Array.isArray(job) || job[0] !== "Typeset" || !job[2]) continue;
        var element = job[2];
        var mj = window.MathJax;
        if (mj && mj.startup && mj.startup.promise && mj.typesetPromise) {
          mj.startup.promise
            .then(function () { return mj.typesetPromise([element]); })
            .catch(function (err) { console.warn("MathJax could not typeset a widget label:", err); });
        }
      }
    },
  };
  var current = window.MathJax;
  function withHub(value) {
    if (value && typeof value === "object" && !value.Hub) {
      try { value.Hub = hub; } catch (e) { /* a frozen object: leave it */ }
    }
    return value;
  }
  Object.defineProperty(window, "MathJax", {
    configurable: true,
    enumerable: true,
    get: function () { return current; },
    set: function (value) { current = withHub(value); },
  });
  withHub(current);
})();
