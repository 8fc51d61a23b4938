/**
 * English for the launcher and the notifications: in their chunk, which adds it to the English
 * table when it loads.
 */

/** English of the launcher, the preview bubble, the notifications and their settings. */
export const enLauncher = {
  closeChat: "Close chat",
  dismiss: "Dismiss",
  newMessageFrom: "New message from {name}",
  sound: "Sound for new messages",
  desktopNotifications: "Notify me while this page is in the background",
  enableNotifications: "Turn on",
} satisfies Record<string, string>;
