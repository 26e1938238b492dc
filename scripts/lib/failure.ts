/**
 * A command's failure that the user is told about in words, not with a stack trace: the CLI prints
 * its message as it is (nothing when the reason is already on stderr) and exits with its code.
 */
export class CommandFailure extends Error {
  constructor(
    message = "",
    readonly exitCode = 1,
  ) {
    super(message);
  }
}
