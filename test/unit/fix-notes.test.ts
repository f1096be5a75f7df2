import { describe, expect, it } from 'vitest';
import { chooseReporterQuestion, renderNotReproducedNote } from '../../shared/domain/fix-notes.js';

describe('chooseReporterQuestion', () => {
  it('asks for what the report is missing, most useful first', () => {
    expect(chooseReporterQuestion({ description: 'Checkout crashes when I press Pay' })).toMatch(
      /step by step/,
    );
    const steps =
      '1. Add a coupon to the cart\n2. Remove the last item\n3. Press Pay, then the page goes white and nothing happens';
    expect(chooseReporterQuestion({ description: steps })).toMatch(/On which page/);
    expect(
      chooseReporterQuestion({ description: steps, report: { url: 'https://shop.example.com/checkout' } }),
    ).toMatch(/browser console/);
    expect(
      chooseReporterQuestion({
        description: steps,
        report: { url: 'https://shop.example.com/checkout', consoleLogs: 'TypeError: x' },
      }),
    ).toMatch(/version of the app/);
    expect(
      chooseReporterQuestion({
        description: steps,
        report: { url: 'https://x', consoleLogs: 'TypeError', appVersion: '2.3.1' },
      }),
    ).toMatch(/browser and device/);
    expect(
      chooseReporterQuestion({
        description: steps,
        report: {
          url: 'https://x',
          consoleLogs: 'TypeError',
          appVersion: '2.3.1',
          deviceInfo: { os: 'iOS' },
        },
      }),
    ).toMatch(/every time, or only sometimes/);
  });
});

describe('renderNotReproducedNote', () => {
  it('says what was tried, fences the agent’s words, and never mentions anyone', () => {
    const note = renderNotReproducedNote({
      reproduction: { status: 'not_reproduced', tests: ['src/cart.test.js'] },
      summary: '@everyone ```\n**approved** <@123>',
      question: 'What exactly did you do?',
      spend: '$1.00 of $100.00 spent on fixes this month',
    });
    expect(note.content).toContain("the agent's tests pass on the current code too");
    expect(note.content).toContain('Tests it tried: `src/cart.test.js`');
    expect(note.content).toContain('**To the reporter:** What exactly did you do?');
    expect(note.content).not.toMatch(/@everyone/);
    expect(note.content).toMatch(/````text\n/);
    expect(note.content).toContain('_Budget: $1.00 of $100.00 spent on fixes this month._');
  });
});
