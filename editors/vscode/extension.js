// The gandsl extension: starts `gandsl lsp` for .gan files and passes the `gandsl.params`
// setting to it. Everything else (errors, shapes, hover, rename, formatting) is the server's.
const vscode = require("vscode");
const { LanguageClient, TransportKind } = require("vscode-languageclient/node");

let client;

function activate(context) {
  const [command, ...args] = vscode.workspace.getConfiguration("gandsl").get("command");
  client = new LanguageClient(
    "gandsl",
    "gandsl",
    { command, args, transport: TransportKind.stdio },
    {
      documentSelector: [{ scheme: "file", language: "gan" }],
      synchronize: { configurationSection: "gandsl" },
    },
  );
  context.subscriptions.push(client);
  return client.start();
}

function deactivate() {
  return client ? client.stop() : undefined;
}

module.exports = { activate, deactivate };
