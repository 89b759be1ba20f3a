// Copies docs/diagrams/*.mmd into the README's marked Mermaid blocks (test/readme.test.ts checks they agree).
//   node scripts/embed-diagrams.mjs
import { readFileSync, writeFileSync } from 'node:fs';

const README = 'README.md';
let text = readFileSync(README, 'utf8');
for (const name of ['linux-6.18-page', 'diff-linux-6.18-inplace-conversion']) {
  const body = readFileSync(`docs/diagrams/${name}.mmd`, 'utf8').trimEnd();
  const re = new RegExp(`(<!-- diagram:${name} -->\\n\`\`\`mermaid\\n)[\\s\\S]*?(\\n\`\`\`)(?=\\n|$)`);
  if (!re.test(text)) throw new Error(`README has no <!-- diagram:${name} --> block`);
  text = text.replace(re, (_m, a, b) => `${a}${body}${b}`);
}
writeFileSync(README, text);
console.log('README diagrams updated');
