/**
 * English for the dialogs and the settings panel: in their chunk, which adds it to the English
 * table when it loads.
 */

/** English of the dialogs and the settings. */
export const enDialogs = {
  logoutTitle: "Log out of the chat?",
  logoutDevice: "Log out on this device",
  logoutDeviceHint:
    "Your session here ends; your messages stay. While another device is still signed in as {name}, the name stays yours. With no device signed in, nobody can sign in as {name} again, you included, until the account is deleted after {days} days unused.",
  logoutDeviceHintKept:
    "Your session here ends; your messages stay. While another device is still signed in as {name}, the name stays yours. With no device signed in, nobody can sign in as {name} again, you included.",
  deleteAccount: "Delete my account",
  deleteAccountHint:
    "The name {name} is free again at once. Messages you wrote are replaced by “Message deleted” for everyone.",
  deleting: "Deleting…",
  deleteFailed: "The account was not deleted: {reason}",
  readReceipts: "Read receipts",
  readReceiptsHint:
    "Others see when you have read their messages, and you see when they have read yours.",
} satisfies Record<string, string>;
