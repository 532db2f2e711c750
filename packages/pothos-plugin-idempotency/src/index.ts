export const hello = "plugin";
