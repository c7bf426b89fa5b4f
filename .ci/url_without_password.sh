# Source this file for `url_without_password URL`: the URL with its password replaced by ***
# (user, host, port and database stay, so a log still says which server the tests used).
#   url_without_password postgresql+psycopg://u:secret@127.0.0.1:5432/db
#   -> postgresql+psycopg://u:***@127.0.0.1:5432/db
url_without_password() {
  printf '%s\n' "$1" | sed -E 's#^([A-Za-z][A-Za-z0-9+.-]*://[^:/@]*):[^@]*@#\1:***@#'
}
