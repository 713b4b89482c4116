// tsc accepts a promise that nobody awaits; with an async database that is a lost write or
// an error nobody sees. This check fails on any expression statement whose value is a
// promise (`store.deleteFile(id);`), unless it is marked as deliberate with `void`.
// Usage: node tools/check-floating-promises.ts [tsconfig.json]
import ts from 'typescript';

const configPath = process.argv[2] ?? 'tsconfig.json';
const read = ts.readConfigFile(configPath, ts.sys.readFile);
const parsed = ts.parseJsonConfigFileContent(read.config, ts.sys, '.');
const program = ts.createProgram(parsed.fileNames, parsed.options);
const checker = program.getTypeChecker();

// Fastify's reply is a thenable that is never awaited; only real promises count.
function isPromise(type: ts.Type): boolean {
  if (type.isUnion()) return type.types.some(isPromise);
  return type.getSymbol()?.getName() === 'Promise';
}

// node:test runs what `test()` and its kin register whether or not their promise is awaited.
const TEST_CALLS = new Set(['test', 'describe', 'it', 'suite', 'before', 'after', 'beforeEach', 'afterEach']);
function isTestRegistration(e: ts.Expression): boolean {
  if (!ts.isCallExpression(e)) return false;
  const callee = e.expression;
  const name = ts.isIdentifier(callee) ? callee.text : ts.isPropertyAccessExpression(callee) ? callee.name.text : '';
  return TEST_CALLS.has(name);
}

// A promise stored in a variable is someone's to await; one with a rejection handler is handled.
function isHandled(e: ts.Expression): boolean {
  // `x = p`, and `x ??= p` (and `||=`, `&&=`) when the promise may be assigned.
  const assigns = [ts.SyntaxKind.EqualsToken, ts.SyntaxKind.QuestionQuestionEqualsToken, ts.SyntaxKind.BarBarEqualsToken, ts.SyntaxKind.AmpersandAmpersandEqualsToken];
  if (ts.isBinaryExpression(e) && assigns.includes(e.operatorToken.kind)) return true;
  if (!ts.isCallExpression(e) || !ts.isPropertyAccessExpression(e.expression)) return false;
  const method = e.expression.name.text;
  return method === 'catch' || (method === 'then' && e.arguments.length >= 2);
}

let found = 0;
for (const file of program.getSourceFiles()) {
  if (file.isDeclarationFile || file.fileName.includes('/node_modules/')) continue;
  const visit = (node: ts.Node): void => {
    if (ts.isExpressionStatement(node)) {
      const e = node.expression;
      if (!ts.isVoidExpression(e) && !ts.isAwaitExpression(e) && !isTestRegistration(e) && !isHandled(e) && isPromise(checker.getTypeAtLocation(e))) {
        const { line, character } = file.getLineAndCharacterOfPosition(e.getStart());
        console.log(`${file.fileName}:${line + 1}:${character + 1}: a promise nobody awaits: ${e.getText().slice(0, 80)}`);
        found++;
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(file);
}
if (found) {
  console.log(`${found} floating promise(s): await them, or write \`void\` where not waiting is deliberate`);
  process.exit(1);
}
