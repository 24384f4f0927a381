// A screenshot of the viewer page as a person sees it: headless Chromium (Debian's) driven by
// playwright-core (installed by tests/browser/install.sh), signs in with TOKEN (any text when the
// feed has no tokens configured), waits for the map and the first snapshot, and saves the page.
//   node scripts/viewer_shot.mjs URL TOKEN OUT.png [WIDTHxHEIGHT]
import { chromium } from '../tests/browser/node_modules/playwright-core/index.mjs';

const [url, token, out, size = '1920x1080'] = process.argv.slice(2);
const [width, height] = size.split('x').map(Number);
const browser = await chromium.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium' });
try {
  const page = await browser.newPage({ viewport: { width, height } });
  await page.goto(url);
  await page.fill('[data-testid="token"]', token);
  await page.click('[data-testid="login-submit"]');
  await page.waitForFunction(() => window.opswall && window.opswall.state.snapshot && window.opswall.state.city, null, { timeout: 20000 });
  await page.waitForTimeout(1500); // a few deltas and the map's first paint
  await page.screenshot({ path: out });
} finally {
  await browser.close();
}
