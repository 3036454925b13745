/**
 * Entry of the sign-in dialog's page (bundled to `signin-dialog.js` by scripts/build.ts and loaded
 * by addin/public/signin-dialog.html): runs ./dialog-page.ts with the real Office host.
 */
import { officeHost } from "../host";
import { runDialogSignIn } from "./dialog-page";

const statusLine = document.getElementById("status");
void runDialogSignIn({
  host: officeHost(),
  location: window.location,
  status: (text) => {
    if (statusLine) statusLine.textContent = text;
  },
});
