/**
 * A jest reporter that ends the run with one plain line, `jest: N passed, N failed, N skipped`,
 * which CI reads as the test count whatever the runner.
 */
class SummaryReporter {
  onRunComplete(_contexts, results) {
    const { numPassedTests, numFailedTests, numPendingTests, numTodoTests } = results;
    const line = `jest: ${numPassedTests} passed, ${numFailedTests} failed, ${numPendingTests + numTodoTests} skipped\n`;
    // Printed at exit, after jest's own summary, so that it is the run's closing line.
    process.once("exit", () => process.stderr.write(line));
  }
}
module.exports = SummaryReporter;
