//! The `harbor` command.

fn main() {
    println!("harbor");
}
