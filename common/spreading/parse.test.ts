import { parseSpreadCode, type SpreadCode } from "./parse";

// Codes from IBM Planning Analytics "Data spreading and hold syntax reference table"
// (https://www.ibm.com/docs/en/planning-analytics/2.1.0?topic=syntax-data-spreading-hold-reference-table)
// and the REST examples "Percent change" (P%+|^<>10), "Repeat leaves" (LR+*200), "Relative proportional
// spread" (RP9999), "Relative percent adjustment" (R%+20), "Repeat leaves data spreading method" (LR*25)
// and "ProportionSpreadToZeroCells" (LS*###).

function parsed(text: string): SpreadCode {
  const r = parseSpreadCode(text);
  if (!r.ok) throw new Error(`${text}: ${r.message}`);
  return r.code;
}

describe("parseSpreadCode: good codes", () => {
  it.each<[string, SpreadCode]>([
    ["P100", { kind: "P", action: "replace", directions: [], value: 100 }],
    ["P+100", { kind: "P", action: "add", directions: [], value: 100 }],
    ["P~100", { kind: "P", action: "subtract", directions: [], value: 100 }],
    ["P<>100", { kind: "P", action: "replace", directions: ["<", ">"], value: 100 }],
    ["S+200", { kind: "S", action: "add", directions: [], value: 200 }],
    ["R~50", { kind: "R", action: "subtract", directions: [], value: 50 }],
    ["R12", { kind: "R", action: "replace", directions: [], value: 12 }],
    ["LS50", { kind: "LS", action: "replace", directions: [], allLeaves: false, value: 50 }],
    ["LS*1200", { kind: "LS", action: "replace", directions: [], allLeaves: true, value: 1200 }],
    ["LR*25", { kind: "LR", action: "replace", directions: [], allLeaves: true, value: 25 }],
    ["LR+*200", { kind: "LR", action: "add", directions: [], allLeaves: true, value: 200 }],
    ["P%+10", { kind: "P%", action: "add", directions: [], percent: 10 }],
    ["P%-5", { kind: "P%", action: "replace", directions: [], percent: -5 }],
    ["P%~5", { kind: "P%", action: "subtract", directions: [], percent: 5 }],
    ["P%+|^<>10", { kind: "P%", action: "add", directions: ["|", "^", "<", ">"], percent: 10 }],
    ["SL100:200", { kind: "SL", action: "replace", directions: [], start: 100, end: 200 }],
    ["SL+>100:200", { kind: "SL", action: "add", directions: [">"], start: 100, end: 200 }],
    ["GR300:25", { kind: "GR", action: "replace", directions: [], start: 300, rate: 25 }],
    ["GR100:-5", { kind: "GR", action: "replace", directions: [], start: 100, rate: -5 }],
    ["RP9999", { kind: "RP", action: "replace", directions: [], value: 9999 }],
    ["R%+20", { kind: "R%", action: "add", directions: [], percent: 20 }],
    ["C", { kind: "C", directions: [] }],
    ["H", { kind: "H" }],
    ["RH", { kind: "RH" }],
    ["HC", { kind: "HC" }],
    ["RC", { kind: "RC" }],
    ["  p+1.5e3 ", { kind: "P", action: "add", directions: [], value: 1500 }],
    ["ls*.5", { kind: "LS", action: "replace", directions: [], allLeaves: true, value: 0.5 }],
    ["250", { kind: "P", action: "replace", directions: [], value: 250 }],
    ["-12.5", { kind: "P", action: "replace", directions: [], value: -12.5 }],
  ])("%s", (text, want) => {
    expect(parsed(text)).toEqual(want);
  });
});

describe("parseSpreadCode: bad codes name the bad part", () => {
  it.each<[string, string, number, RegExp]>([
    ["", "", 0, /empty/],
    ["   ", "", 0, /empty/],
    ["X100", "X", 0, /unknown spreading method "X"/],
    ["%5", "%", 0, /unknown spreading method/],
    ["P", "", 1, /P: missing value/],
    ["P+", "", 2, /missing value/],
    ["P%", "", 2, /missing percentage/],
    ["P1O0", "O0", 2, /unexpected "O0"/],
    ["P1..2", ".2", 3, /unexpected "\.2"/],
    ["P+~100", "~", 2, /second data action/],
    ["P<<5", "<", 2, /direction "<" given twice/],
    ["S*100", "*", 1, /only to LS and LR/],
    ["LS**5", "*", 3, /given twice/],
    ["Pabc", "abc", 1, /value expected, got "abc"/],
    ["SL100", "", 5, /expected ":"/],
    ["SL100;200", ";200", 5, /expected ":" then the end value, got ";200"/],
    ["SL100:", "", 6, /missing end value/],
    ["GR300:x", "x", 6, /growth percentage expected/],
    ["SL1:2:3", ":3", 5, /unexpected ":3"/],
    ["C5", "5", 1, /C takes no argument/],
    ["C+", "+", 1, /C takes no data action/],
    ["H<", "<", 1, /H takes no direction/],
  ])("%j", (text, part, position, message) => {
    const r = parseSpreadCode(text);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect({ code: r.code, part: r.part, position: r.position }).toEqual({ code: "PARSE_ERROR", part, position });
    expect(r.message).toMatch(message);
  });
});
