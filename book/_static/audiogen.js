// audiogen's book: an identifier in a printed table (skip_connections) may break after each
// underscore, as a sentence breaks at its spaces, so that the table fits the column without
// breaking ordinary words (book/_static/audiogen.css). Text only: no element is moved or added
// besides <wbr>.
document.addEventListener("DOMContentLoaded", () => {
  for (const cell of document.querySelectorAll(".cell_output th, .cell_output td")) {
    const walker = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT);
    const texts = [];
    while (walker.nextNode()) if (/[A-Za-z0-9]_[A-Za-z0-9]/.test(walker.currentNode.data)) texts.push(walker.currentNode);
    for (const text of texts) {
      const parts = text.data.split(/(?<=_)/);
      const frag = document.createDocumentFragment();
      parts.forEach((part, i) => {
        frag.append(part);
        if (i < parts.length - 1) frag.append(document.createElement("wbr"));
      });
      text.replaceWith(frag);
    }
  }
});
